/**
 * The part of a memjs `Client` the memcached store uses, described structurally so that memjs stays
 * an optional peer dependency: core never imports it, and any client with these members fits (a
 * memjs `Client`, a subclass with its own `getServer`, a test double).
 *
 * memjs has no compare-and-swap call, so the store builds binary-protocol requests itself and
 * sends them through `perform`, memjs's own transport: it picks the server, matches the response
 * by `opaque`, applies the client's timeout, retries and failover, and keeps the connection.
 */
export interface MemcachedClient {
  /** The last sequence number handed out; requests carry it as `opaque` so responses find their callback. */
  readonly seq: number

  /** Advance `seq`. Shared with the client's own commands, so concurrent users never reuse an `opaque`. */
  incrSeq(): void

  /**
   * Send `request` (a complete binary-protocol frame whose `opaque` is `seq`) to the server that
   * `routeKey` hashes to, and call back once with the parsed response or the transport error.
   * Requests written to one server are executed by it in the order they were sent.
   */
  perform(routeKey: string, request: Buffer, seq: number, callback: (error: unknown, response: MemcachedResponse | null) => void): void

  /** Close every connection (used only for clients the store opened itself). */
  close(): void

  /**
   * Optional: the server `routeKey` hashes to, as memjs keeps it (`Client.server`). When its
   * connection is open (`_socket`), the store corks it while it writes the frames of one round
   * trip, so they leave in one system call instead of one each. Without it, frames are written one
   * by one, which is correct, only slower.
   */
  server?(routeKey: string): object | undefined
}

/** The part of a `net.Socket` used to coalesce writes. */
export interface CorkableSocket {
  cork(): void
  uncork(): void
}

/** A binary-protocol response frame as memjs parses it. */
export interface MemcachedResponse {
  header: {
    /** 0 on success; see `Status` in `protocol.ts`. */
    status: number
    /** The item's CAS token: 8 bytes, big-endian. */
    cas: Buffer
  }
  extras: Buffer
  val: Buffer
}
