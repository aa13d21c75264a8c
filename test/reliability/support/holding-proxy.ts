import { once } from 'node:events'
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net'

export interface HoldingProxy {
  /** The loopback port clients connect to instead of the server's. */
  readonly port: number
  /**
   * From now on, hold each new connection: accepted, but nothing it sends reaches the server until
   * `release()`, so its first command waits. Connections made before keep flowing.
   */
  holdNew(): void
  /** How many connections are held right now. */
  readonly held: number
  /** Relay the held connections and stop holding new ones. */
  release(): void
  /** Resolves once the server sent a connection a reply containing `text` (counted from now). */
  relayed(text: string): Promise<void>
  /** Connections whose client sent `text` and which are still open. */
  openSending(text: string): number
  close(): Promise<void>
}

/** A TCP proxy to the server at `host:port` that can hold new connections at a moment a test chooses. */
export async function holdingProxy(host: string, port: number): Promise<HoldingProxy> {
  const sockets = new Set<Socket>()
  const waiting = new Set<() => void>()
  const open = new Map<Socket, string>() // client socket → what it sent so far (small: commands to Sentinel)
  const watchers: { text: string; seen: () => void }[] = []
  let holding = false

  const relay = (client: Socket, early: Buffer[]) => {
    const upstream = createConnection(port, host)
    sockets.add(upstream)
    upstream.on('error', () => undefined)
    upstream.on('close', () => client.destroy())
    client.on('close', () => upstream.destroy())
    for (const chunk of early) upstream.write(chunk)
    client.removeAllListeners('data')
    client.on('data', (chunk: Buffer) => {
      open.set(client, (open.get(client) ?? '') + chunk.toString('latin1'))
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk)
      const text = chunk.toString('latin1')
      for (const watcher of [...watchers]) {
        if (!text.includes(watcher.text)) continue
        watchers.splice(watchers.indexOf(watcher), 1)
        watcher.seen()
      }
    })
  }

  const server = createServer((client) => {
    sockets.add(client)
    client.on('error', () => undefined)
    client.on('close', () => open.delete(client))
    const early: Buffer[] = []
    client.on('data', (chunk: Buffer) => {
      early.push(chunk)
      open.set(client, (open.get(client) ?? '') + chunk.toString('latin1'))
    })
    if (!holding) return relay(client, early)
    const go = () => {
      waiting.delete(go)
      if (!client.destroyed) relay(client, early)
    }
    waiting.add(go)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as AddressInfo).port,
    holdNew: () => void (holding = true),
    get held() {
      return waiting.size
    },
    release: () => {
      holding = false
      for (const go of [...waiting]) go()
    },
    relayed: (text) => new Promise((seen) => watchers.push({ text, seen })),
    openSending: (text) => [...open.values()].filter((sent) => sent.includes(text)).length,
    close: () => {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
