import { LockNotReplicatedError } from '../../errors.js'
import type { RedisArgument, ScriptRunner } from './client.js'
import type { RedisKey } from './keys.js'
import type { BoundScript } from './scripts/lua.js'

/**
 * The store's `waitReplicas`: a script that may grant or renew runs, then `WAIT` in the same round
 * trip. When the script granted or renewed (`changed(reply)`) and too few replicas acknowledged
 * it, a grant is given back (`giveBack`), and either way the caller gets `LockNotReplicatedError`
 * instead of a lock a failover could lose. With `replicas` 0 the script runs alone.
 */
export class Replicated {
  readonly #scripts: ScriptRunner
  readonly #replicas: number
  readonly #timeoutMs: number

  constructor(scripts: ScriptRunner, replicas: number, timeoutMs: number) {
    this.#scripts = scripts
    this.#replicas = replicas
    this.#timeoutMs = timeoutMs
  }

  async run<K extends string, A extends string, R>(
    operation: 'acquire' | 'steal' | 'extend',
    key: string,
    script: BoundScript<K, A, R>,
    keys: Readonly<Record<K, RedisKey>>,
    args: Readonly<Record<A, RedisArgument>>,
    changed: (reply: R) => boolean,
    giveBack?: () => Promise<unknown>,
  ): Promise<R> {
    if (this.#replicas === 0) return this.#scripts.call(script, keys, args)
    const [k, a] = script.encode(keys, args)
    const { reply: raw, acknowledged } = await this.#scripts.runAndWait(script, k, a, this.#replicas, this.#timeoutMs)
    const reply = script.decode(raw)
    if (acknowledged >= this.#replicas || !changed(reply)) return reply
    // Given back on the primary; if this fails too, the grant expires after its ttl.
    await giveBack?.().catch(() => false)
    throw new LockNotReplicatedError({ key, operation, acknowledged, required: this.#replicas, timeoutMs: this.#timeoutMs })
  }
}
