import { connect } from 'node:net'

/**
 * Looking at memcached behind the library's back: `lru_crawler metadump all` lists every live
 * key of a server (memcached ≥ 1.4.31), URL-encoded, one `key=… exp=… …` line each, then `END`.
 * The store names a lock's items after its store key (prefix + name, hashed only when memcached
 * cannot hold it), so the keys of a test's locks start with the test's prefix.
 */
export async function memcachedKeys(url: string): Promise<string[]> {
  const hosts = url
    .replace(/^memcached:\/\//, '')
    .replace(/[/?].*$/, '')
    .split(',')
  const all = await Promise.all(hosts.map((host) => dump(host)))
  return all.flat().sort()
}

function dump(hostPort: string): Promise<string[]> {
  const [host = '127.0.0.1', port = '11211'] = hostPort.split(':')
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), host)
    let text = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`memcached ${hostPort}: no END from lru_crawler metadump within 10 s`))
    }, 10_000)
    socket.setEncoding('utf8')
    socket.on('connect', () => socket.write('lru_crawler metadump all\r\n'))
    socket.on('data', (chunk: string) => {
      text += chunk
      if (!text.endsWith('END\r\n') && !text.startsWith('ERROR') && !text.startsWith('BUSY')) return
      clearTimeout(timer)
      socket.end()
      if (!text.endsWith('END\r\n')) return reject(new Error(`memcached ${hostPort}: ${text.trim()}`))
      const keys = text
        .split(/\r?\n/)
        .filter((line) => line.startsWith('key='))
        .map((line) => decodeURIComponent(line.slice(4, line.indexOf(' '))))
      resolve(keys)
    })
    socket.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}
