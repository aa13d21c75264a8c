import { once } from 'node:events'
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net'

export interface Relay {
  /** The loopback port clients connect to instead of the server's. */
  readonly port: number
  /** Connections accepted so far. */
  readonly connections: number
  /** Drop every connection through it (the server stays up; clients may reconnect). */
  drop(): void
  /** Stop listening and drop every connection: the port refuses, as an unreachable server's does. */
  down(): Promise<void>
  /** Listen again on the same port. */
  up(): Promise<void>
  close(): Promise<void>
}

/**
 * A TCP relay to a real server at `target` (`redis://127.0.0.1:6391`), on `port` (0: any free one),
 * that a test can take away and bring back.
 */
export async function relay(target: string, port = 0): Promise<Relay> {
  const { hostname, port: targetPort } = new URL(target)
  const sockets = new Set<Socket>()
  let connections = 0
  let listening = false
  const server = createServer((client) => {
    connections++
    const upstream = createConnection(Number(targetPort), hostname)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => undefined)
      socket.on('close', () => (client.destroy(), upstream.destroy(), sockets.delete(socket)))
    }
    client.pipe(upstream).pipe(client)
  })
  const listen = async (on: number) => {
    server.listen(on, '127.0.0.1')
    await once(server, 'listening')
    listening = true
  }
  const drop = () => {
    for (const socket of sockets) socket.destroy()
  }
  const down = async () => {
    if (!listening) return drop()
    listening = false
    const closed = new Promise((resolve) => server.close(resolve))
    drop()
    await closed
  }
  await listen(port)
  const bound = (server.address() as AddressInfo).port
  return {
    port: bound,
    get connections() {
      return connections
    },
    drop,
    down,
    up: () => listen(bound),
    close: down,
  }
}
