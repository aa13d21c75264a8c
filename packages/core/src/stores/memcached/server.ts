import { connect, type Socket } from 'node:net'
import type * as Memjs from 'memjs'

/** The writable state of a memjs `Server` that its connection handling keeps (memjs 1.x). */
interface ServerState {
  _socket: Socket | undefined
  connected: boolean
  timeoutSet: boolean
  connectCallbacks: ((socket: Socket) => void)[]
  responseBuffer: Buffer
}

type Server = Memjs.Server & ServerState

/**
 * A memjs `Server` whose connection events act only while their socket is the server's current
 * one.
 *
 * memjs 1.3 gives up on a server that stops answering by half-closing the socket (`end()`) and
 * opening a new one for the next request. A half-closed socket closes only once the server reads
 * the FIN, so after a server that was frozen (SIGSTOP, a long fork or swap, a network black hole)
 * resumes, every socket memjs gave up on closes, one after another; memjs's `close` handler then
 * forgets whichever socket is current at that moment and cancels its timer. A request queued on a
 * socket that was still connecting is never written and never times out: its callback never
 * runs, and the lock operation waiting for it hangs (the manager's `storeTimeout` bounded it, but
 * the client stayed broken for that request). The same stale sockets could fail the current
 * socket's requests with their errors, and their late replies landed in the current socket's
 * response buffer.
 *
 * Here each socket's `connect`, `data`, `error`, `close` and connect-timeout handlers first check
 * that the socket is still the server's; stale sockets are destroyed and heard no more. Otherwise
 * this is memjs's own `sock()` (same states, SASL, keep-alive, connect timeout).
 */
export function lockServer(memjs: typeof Memjs, ...args: ConstructorParameters<typeof Memjs.Server>): Memjs.Server {
  const server = new memjs.Server(...args) as Server
  const error = server.error.bind(server)
  server.error = (cause) => {
    // A frame cut short on the failed socket must not prefix the next socket's replies.
    server.responseBuffer = Buffer.alloc(0)
    error(cause)
  }
  server.sock = (sasl, go) => sock(server, sasl, go)
  return server
}

function sock(server: Server, sasl: boolean, go: (socket: Socket) => void): void {
  const current = server._socket
  if (current && (server.connected || sasl)) return go(current)
  if (current) {
    // Connecting or authenticating: run once it is ready.
    server.connectCallbacks.push(go)
    return
  }
  server.connected = false
  server.responseBuffer = Buffer.alloc(0)
  const socket = connect(server.port, server.host)
  server._socket = socket
  const isCurrent = () => server._socket === socket
  socket.once('connect', () => {
    if (!isCurrent()) return void socket.destroy()
    server.once('authenticated', () => {
      if (!isCurrent()) return
      server.connected = true
      socket.setTimeout(0)
      server.timeoutSet = false
      go(socket)
      const callbacks = server.connectCallbacks
      server.connectCallbacks = []
      for (const callback of callbacks) callback(socket)
    })
    socket.on('data', (data: Buffer) => {
      if (isCurrent()) server.responseHandler(data)
    })
    if (server.username && server.password) server.listSasl()
    else server.emit('authenticated')
  })
  socket.on('error', (cause) => {
    if (isCurrent()) server.error(cause)
    else socket.destroy()
  })
  socket.on('close', () => {
    if (!isCurrent()) return
    server.connected = false
    if (server.timeoutSet) {
      socket.setTimeout(0)
      server.timeoutSet = false
    }
    server._socket = undefined
  })
  server.timeoutSet = true
  socket.setTimeout((server.options.conntimeout ?? 2 * (server.options.timeout ?? 0.5)) * 1000, () => {
    if (!isCurrent()) return
    server.timeoutSet = false
    if (!server.connected) {
      socket.destroy()
      server._socket = undefined
      server.error(new Error('socket timed out connecting to server.'))
    }
  })
  socket.setKeepAlive(server.options.keepAlive ?? false, (server.options.keepAliveDelay ?? 30) * 1000)
}
