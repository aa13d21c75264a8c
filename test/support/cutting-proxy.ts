import { once } from 'node:events'
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'

export interface CuttingProxy {
  /** The loopback port clients connect to instead of the server's. */
  readonly port: number
  /**
   * Arm the proxy once: the next command carrying `marker` goes to the server, and when the
   * server's reply to it comes, the client's connection is closed instead of relaying it. So the
   * command ran, and the client sees its connection drop. Resolves with the withheld reply.
   */
  cut(marker: string): Promise<Buffer>
  /** Close the proxy and every connection through it. */
  close(): Promise<void>
}

/**
 * A TCP proxy to a real server (Redis) at `target` (`redis://127.0.0.1:6391`): a reply lost with
 * its connection, at the moment a test chooses. Other commands and later connections are relayed
 * as they are.
 */
export async function cuttingProxy(target: string): Promise<CuttingProxy> {
  const { hostname, port } = new URL(target)
  const sockets = new Set<Socket>()
  let armed: { marker: string; withheld: (reply: Buffer) => void } | undefined
  const server: Server = createServer((client) => {
    const upstream = createConnection(Number(port), hostname)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => undefined)
      socket.on('close', () => (client.destroy(), upstream.destroy()))
    }
    let cutting: { marker: string; withheld: (reply: Buffer) => void } | undefined
    client.on('data', (chunk: Buffer) => {
      if (armed && chunk.includes(armed.marker)) {
        cutting = armed
        armed = undefined
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (!cutting) return void client.write(chunk)
      // A server that does not know the script yet (a fresh Redis) answers EVALSHA with NOSCRIPT,
      // and the client sends the command again as EVAL: the command has not run, so cut that one.
      if (chunk.subarray(0, 9).toString() === '-NOSCRIPT') {
        armed = cutting
        cutting = undefined
        return void client.write(chunk)
      }
      client.destroy()
      cutting.withheld(chunk)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as AddressInfo).port,
    cut: (marker) => new Promise((withheld) => (armed = { marker, withheld })),
    close: () => {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/** The parts of a lock store `cutEachRelease` needs. */
interface ReleasingStore {
  release(key: string, owner: string): Promise<boolean>
}

/**
 * `store` (a real Redis store connected through `proxy`), with the proxy armed as each grant's
 * first release is sent: that command reaches Redis, and its reply is lost with the connection.
 */
export function cutEachRelease<S extends ReleasingStore>(store: S, proxy: CuttingProxy): S {
  // Only each grant's first release: the manager tries a failed release again in the background
  // (250 ms, 1 s, 4 s later), and cutting those too would drop whatever else is on the connection
  // then (with maxRetriesPerRequest 0, a later test's commands).
  const cut = new Set<string>()
  return new Proxy(store, {
    get(target, key) {
      if (key === 'release')
        return (lockKey: string, owner: string) => {
          if (!cut.has(owner)) void proxy.cut(owner)
          cut.add(owner)
          return target.release(lockKey, owner)
        }
      const value: unknown = Reflect.get(target, key, target)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
}
