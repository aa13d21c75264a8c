import type { RedisKey } from './keys.js'
import type { BoundScript, LuaScript } from './scripts/lua.js'

/** An argument of a Redis command. */
export type RedisArgument = string | Buffer | number

/**
 * The part of a Redis client `RedisStore` uses. An ioredis `Redis` or `Cluster` (v5 or v6) fits as
 * it is; any other client fits through a small adapter. Nothing here is imported from ioredis.
 */
export interface RedisClient {
  /** `EVALSHA sha numKeys ...keys ...args`, resolving the script's reply. Rejects with `NOSCRIPT …` when the server does not know the script. */
  evalsha(sha: string, numKeys: number, ...keysAndArgs: RedisArgument[]): Promise<unknown>
  /** `EVAL source numKeys ...keys ...args` (which also caches the script for later `EVALSHA`). */
  eval(source: string, numKeys: number, ...keysAndArgs: RedisArgument[]): Promise<unknown>
  /**
   * A new connection with the same settings, used for subscriptions only (a connection in
   * subscriber mode can run nothing else). Made lazily, the first time someone waits.
   */
  duplicate(): RedisSubscriber
  /** ioredis's options; `keyPrefix` is prepended to keys but not to channels, so the store adds it to its channel names. */
  readonly options?: { readonly keyPrefix?: string | undefined }
  /** ioredis: `false` on a `Redis` client, `true` on a `Cluster`. Renewals are batched into one script only when it is `false`. */
  readonly isCluster?: boolean
  /** ioredis's connection state; `close()` skips the polite `QUIT` unless it is `ready`. */
  readonly status?: string
  /** Ends the client once pending replies arrive. Called by `close()` only when the store owns the client. */
  quit?(): Promise<unknown>
  /** Ends the client at once. Called by `close()` only when the store owns the client and `quit` failed. */
  disconnect?(): void
  /** Opens the connection again after the client ended. Used only on a client the store owns (see `revive.ts`). */
  connect?(): Promise<unknown>
  /** ioredis's `end` (the client stopped reconnecting) and `ready` events. Listened to only on a client the store owns. */
  on?(event: 'end' | 'ready', listener: () => void): unknown
  /**
   * A pipeline: commands written together and answered in order on one connection. Needed only
   * for `waitReplicas`, which sends `WAIT` behind the script in the same round trip.
   */
  pipeline?(): RedisPipeline
}

/** The part of an ioredis pipeline `RedisStore` uses (for `waitReplicas`). */
export interface RedisPipeline {
  evalsha(sha: string, numKeys: number, ...keysAndArgs: RedisArgument[]): RedisPipeline
  eval(source: string, numKeys: number, ...keysAndArgs: RedisArgument[]): RedisPipeline
  /** `WAIT numReplicas timeout`: block until that many replicas acknowledged this connection's writes, or the timeout. */
  wait(numReplicas: number, timeoutMs: number): RedisPipeline
  /** Each command's `[error, reply]`, in order. */
  exec(): Promise<[Error | null, unknown][] | null>
}

/** The part of a subscriber connection (from `duplicate()`) `RedisStore` uses. */
export interface RedisSubscriber {
  subscribe(...channels: RedisKey[]): Promise<unknown>
  unsubscribe(...channels: RedisKey[]): Promise<unknown>
  /** A published message, channel and message as bytes (so a channel that is not UTF-8 arrives intact). */
  on(event: 'messageBuffer', listener: (channel: Buffer, message: Buffer) => void): unknown
  /** A connection error; the connection retries by itself. */
  on(event: 'error', listener: (error: Error) => void): unknown
  /** Connected, also after a reconnect. */
  on(event: 'ready', listener: () => void): unknown
  /** The client stopped reconnecting (see `revive.ts`). */
  on(event: 'end', listener: () => void): unknown
  /** ioredis's connection state. */
  readonly status?: string
  /** Opens the connection again after it ended. */
  connect?(): Promise<unknown>
  /** Ends the connection at once. */
  disconnect(): void
}

/** A Redis call did not answer within the store's `commandTimeoutMs`. The command may still run later. */
export class RedisTimeoutError extends Error {
  override name = 'RedisTimeoutError'
  readonly code = 'ETIMEDOUT'

  constructor(operation: string, timeoutMs: number, cause?: unknown) {
    const detail = cause instanceof Error ? ` (last connection error: ${cause.message})` : ''
    super(`Redis did not answer ${operation} within ${timeoutMs} ms${detail}`, cause === undefined ? undefined : { cause })
  }
}

/** Runs scripts with `EVALSHA`, falling back to `EVAL` when the server lost its script cache. */
export class ScriptRunner {
  readonly #client: RedisClient
  readonly #timeoutMs: number
  readonly #lastError: () => unknown
  /** Calls in flight, oldest first, when timeouts are on. One sweeping timer serves them all instead of a timer per call. */
  readonly #inFlight = new Set<{ started: number; name: string; reject: (error: unknown) => void }>()
  #sweeper: NodeJS.Timeout | undefined

  /**
   * @param timeoutMs reject a call after this long (0: never), give or take a quarter of it.
   *   Bounds the wait when the client itself would queue a command forever (ioredis
   *   `maxRetriesPerRequest: null`, a Cluster that keeps reconnecting).
   * @param lastError the client's last connection error, named in a timeout's message.
   */
  constructor(client: RedisClient, timeoutMs: number, lastError: () => unknown) {
    this.#client = client
    this.#timeoutMs = timeoutMs
    this.#lastError = lastError
  }

  run(script: LuaScript, keys: RedisKey[], args: RedisArgument[]): Promise<unknown> {
    return this.#timed(script.name, () => this.#evaluate(script, keys, args))
  }

  /** Run a bound script with its keys and arguments by name; resolves its decoded reply. */
  call<K extends string, A extends string, R>(
    script: BoundScript<K, A, R>,
    keys: Readonly<Record<K, RedisKey>>,
    args: Readonly<Record<A, RedisArgument>>,
  ): Promise<R> {
    const [k, a] = script.encode(keys, args)
    return this.run(script, k, a).then((reply) => script.decode(reply))
  }

  /**
   * `run`, followed by `WAIT replicas timeoutMs` in the same pipeline: one round trip to the node
   * that ran the script (on a Cluster, the lock's slot), which answers `WAIT` once that many
   * replicas acknowledged the script's writes, or after `timeoutMs` with how many did.
   */
  runAndWait(
    script: LuaScript,
    keys: RedisKey[],
    args: RedisArgument[],
    replicas: number,
    timeoutMs: number,
  ): Promise<{ reply: unknown; acknowledged: number }> {
    return this.#timed(script.name, () => this.#evaluateAndWait(script, keys, args, replicas, timeoutMs))
  }

  #timed<T>(name: string, work: () => Promise<T>): Promise<T> {
    if (this.#timeoutMs <= 0) return work().catch((error: unknown) => Promise.reject(this.#withCause(error)))
    return new Promise((resolve, reject) => {
      const call = { started: performance.now(), name, reject }
      this.#inFlight.add(call)
      this.#sweep()
      work().then(
        (reply) => {
          this.#inFlight.delete(call)
          resolve(reply)
        },
        (error: unknown) => {
          this.#inFlight.delete(call)
          reject(this.#withCause(error))
        },
      )
    })
  }

  /** Start the sweeping timer if it is not running; it stops itself when nothing is in flight. */
  #sweep(): void {
    if (this.#sweeper) return
    const every = Math.max(1, Math.min(1000, this.#timeoutMs / 4))
    this.#sweeper = setInterval(() => {
      const now = performance.now()
      // Oldest first (a Set iterates in insertion order): stop at the first call still in time.
      for (const call of this.#inFlight) {
        if (now - call.started < this.#timeoutMs) break
        this.#inFlight.delete(call)
        call.reject(new RedisTimeoutError(call.name, this.#timeoutMs, this.#lastError()))
      }
      if (this.#inFlight.size === 0) {
        clearInterval(this.#sweeper)
        this.#sweeper = undefined
      }
    }, every)
    // Unref'd: a command that never answers must not keep a finished process alive.
    this.#sweeper.unref()
  }

  /**
   * ioredis rejects a call it gave up on with `MaxRetriesPerRequestError`, which does not say why
   * the connection failed. When the store owns the client it knows the last connection error
   * (`ECONNREFUSED`, `ENOTFOUND`, …) and attaches it as the `cause`.
   */
  #withCause(error: unknown): unknown {
    const last = this.#lastError()
    if (last !== undefined && error instanceof Error && error.cause === undefined && error.name === 'MaxRetriesPerRequestError') {
      error.cause = last
    }
    return error
  }

  /** Not `async`: every lock operation passes here, and each async frame costs a promise and a turn. */
  #evaluate(script: LuaScript, keys: RedisKey[], args: RedisArgument[]): Promise<unknown> {
    let sent: Promise<unknown>
    try {
      sent = this.#client.evalsha(script.sha, keys.length, ...keys, ...args)
    } catch (error) {
      sent = Promise.reject(error)
    }
    return sent.catch((error: unknown) => {
      // After SCRIPT FLUSH, a restart or a failover to a node that never saw the script. EVAL runs
      // it and caches it again, in one round trip; concurrent calls may each do so, harmlessly.
      if (!isNoScript(error)) throw error
      return this.#client.eval(script.source, keys.length, ...keys, ...args)
    })
  }

  async #evaluateAndWait(
    script: LuaScript,
    keys: RedisKey[],
    args: RedisArgument[],
    replicas: number,
    timeoutMs: number,
  ): Promise<{ reply: unknown; acknowledged: number }> {
    const send = async (cached: boolean) => {
      const pipeline = this.#client.pipeline!()
      if (cached) pipeline.evalsha(script.sha, keys.length, ...keys, ...args)
      else pipeline.eval(script.source, keys.length, ...keys, ...args)
      const results = await pipeline.wait(replicas, timeoutMs).exec()
      if (!results || results.length !== 2)
        throw new Error(`Redis answered a ${script.name} + WAIT pipeline with ${JSON.stringify(results)}`)
      return results
    }
    let results = await send(true)
    // As in #evaluate; the WAIT behind a script that did not run returns at once (nothing to replicate).
    if (isNoScript(results[0]![0])) results = await send(false)
    const [[scriptError, reply], [waitError, acknowledged]] = results as [[Error | null, unknown], [Error | null, unknown]]
    if (scriptError) throw scriptError
    if (waitError) throw waitError
    return { reply, acknowledged: Number(acknowledged) }
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT')
}
