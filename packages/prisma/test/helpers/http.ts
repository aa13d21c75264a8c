import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** A reply from `KeepAliveClient.send`, and whether it came over a connection used before. */
export interface Reply {
  status: number
  body: string
  reusedSocket: boolean
}

/**
 * An HTTP client that sends every request over one keep-alive connection (like a proxy reusing a
 * backend connection), to a server on an ephemeral loopback port. Requests carry no body, so Node
 * runs the handler straight from the connection's HTTP parser.
 */
export async function keepAliveServer(handler: http.RequestListener) {
  const connections = new Set<object>()
  const server = http.createServer((request, response) => {
    connections.add(request.socket)
    handler(request, response)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const send = (path: string) =>
    new Promise<Reply>((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent }, (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (body += chunk))
        response.on('end', () => resolve({ status: response.statusCode!, body, reusedSocket: request.reusedSocket }))
      })
      request.on('error', reject)
      request.end()
    })
  const close = async () => {
    agent.destroy()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  /** How many connections the server has seen. */
  const connectionCount = () => connections.size
  return { send, close, connectionCount }
}

/** Reply from a handler's promise: its value as 200, an error as `statusOf(error)` with its name. */
export function reply(response: http.ServerResponse, work: Promise<unknown>, statusOf: (error: unknown) => number = () => 500): void {
  work.then(
    (value) => response.writeHead(200).end(String(value)),
    (error: unknown) => response.writeHead(statusOf(error)).end(error instanceof Error ? `${error.name}: ${error.message}` : String(error)),
  )
}

/** Resolve once `condition()` holds, checking every few ms; reject after `attempts` checks. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, attempts = 2000): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await condition()) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`Gave up waiting for ${what}`)
}
