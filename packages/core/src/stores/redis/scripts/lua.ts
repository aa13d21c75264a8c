import { createHash } from 'node:crypto'
import type { RedisArgument } from '../client.js'
import type { RedisKey } from '../keys.js'

/**
 * One Lua script as Redis runs it: what `ScriptRunner` needs to `EVALSHA` it (and `EVAL` it again
 * after the server lost its script cache).
 */
export interface LuaScript {
  readonly name: string
  readonly source: string
  /** SHA-1 of `source`, for `EVALSHA`. */
  readonly sha: string
  /** How many keys it takes (0 for a variadic script; the runner sends each call's own count as `numkeys`). */
  readonly keys: number
}

/**
 * A script bound by name: its keys, its arguments and its reply are typed, and their positions in
 * `KEYS` and `ARGV` are decided here, once, from the order of `keys` and `args`. The script's body
 * sees each key and argument as a Lua local of the same name (arguments arrive as strings), so the
 * TypeScript caller and the Lua body cannot disagree about which position holds what.
 */
export interface BoundScript<K extends string, A extends string, R> extends LuaScript {
  readonly keyNames: readonly K[]
  readonly argNames: readonly A[]
  /** `KEYS` and `ARGV` in the script's order. */
  encode(keys: Readonly<Record<K, RedisKey>>, args: Readonly<Record<A, RedisArgument>>): [RedisKey[], RedisArgument[]]
  /** The reply as the caller sees it. */
  decode(reply: unknown): R
}

export interface ScriptSpec<K extends string, A extends string, R> {
  name: string
  keys: readonly K[]
  args: readonly A[]
  /** Lua, after the generated `local` lines; may use the fragments below. */
  body: string
  reply: (raw: unknown) => R
}

const LUA_NAME = /^[a-z][A-Za-z0-9]*$/

/**
 * Define a script. Scripts take keys only through `KEYS` and values only through `ARGV`: no Lua is
 * ever assembled from a key or a value, so no key or owner can inject code. (The generated `local`
 * lines hold only the names given here, checked to be plain Lua identifiers.)
 */
export function defineScript<const K extends string, const A extends string, R>(spec: ScriptSpec<K, A, R>): BoundScript<K, A, R> {
  const names = [...spec.keys, ...spec.args]
  for (const name of names) if (!LUA_NAME.test(name)) throw new Error(`${spec.name}: ${name} is not a plain Lua name`)
  if (new Set(names).size !== names.length) throw new Error(`${spec.name}: a key and an argument share a name`)
  const source = [locals(spec.keys, 'KEYS'), locals(spec.args, 'ARGV'), spec.body.trim(), ''].filter((line) => line !== null).join('\n')
  const keyNames = spec.keys
  const argNames = spec.args
  return {
    name: spec.name,
    source,
    sha: createHash('sha1').update(source).digest('hex'),
    keys: keyNames.length,
    keyNames,
    argNames,
    encode: (keys, args) => [keyNames.map((name) => keys[name]), argNames.map((name) => args[name])],
    decode: spec.reply,
  }
}

function locals(names: readonly string[], table: 'KEYS' | 'ARGV'): string | null {
  if (names.length === 0) return null
  return `local ${names.join(', ')} = ${names.map((_, i) => `${table}[${i + 1}]`).join(', ')}`
}

/*
 * Fragments shared by the scripts, each written once. Time is Redis's own (`TIME`, `PX`,
 * `PEXPIRE`), never the client's: app servers with skewed clocks still agree on who holds a lock.
 * Redis 7 replicates scripts by their effects, so reading `TIME` before writing is allowed (Redis 5
 * and 6 do the same by default).
 */

/** `nowUs()`: Redis's clock in µs; `nowMs()`: the same in whole ms (the unit of `PX` and the scores). */
export const CLOCK = `
local function nowUs()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000000 + tonumber(time[2])
end
local function nowMs()
  return math.floor(nowUs() / 1000)
end`

/**
 * `nextToken(counter, us, ttlMs)`: the next fencing token, written to the counter `f`.
 *
 * The token is `max(counter + 1, TIME in µs)`. The counter makes tokens strictly increasing even if
 * Redis's clock steps back; the clock makes them increasing after the counter is gone. The counter
 * expires (refreshed on every grant) so that per-row locks on millions of ids do not grow Redis
 * forever. Microseconds since 1970 are about 1.8e15, below 2^53 until the year 2255, so a token is
 * an exact JavaScript number. `string.format('%.0f')` stores it: Lua's `tostring` would round it to
 * 14 digits.
 *
 * Callers write the counter before the hold: Redis does not undo a script's earlier writes when a
 * later command fails, so a failure must not leave a lock nobody was told about.
 */
export const FENCE = `
local function nextToken(counter, us, ttlMs)
  local token = math.max((tonumber(redis.call('GET', counter)) or 0) + 1, us)
  redis.call('SET', counter, string.format('%.0f', token), 'PX', ttlMs)
  return token
end`

/**
 * `expireToLast(z, now)`: a sorted set scored by expiry (ms) lives until its last member expires;
 * returns that many ms. (Only called on a set that has a member.)
 */
export const EXPIRE_TO_LAST = `
local function expireToLast(z, now)
  local keep = tonumber(redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')[2]) - now
  redis.call('PEXPIRE', z, keep)
  return keep
end`

/**
 * `wakeIfAwaited(l, now, channel, message)`: publish on the lock's channel when someone waits or
 * listens (a live member of `l`). Nothing is published otherwise, which matters on a Cluster, where
 * every PUBLISH is broadcast to every node over the cluster bus.
 */
export const WAKE = `
local function wakeIfAwaited(alive, now, channel, message)
  redis.call('ZREMRANGEBYSCORE', alive, '-inf', now)
  if redis.call('ZCARD', alive) > 0 then redis.call('PUBLISH', channel, message) end
end`

/** A reply of `1` / `0` as a boolean. */
export function flag(raw: unknown): boolean {
  return Number(raw) === 1
}
