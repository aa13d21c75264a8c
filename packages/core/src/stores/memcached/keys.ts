import { createHash } from 'node:crypto'
import { keyBytes, safeKey, type SafeKeyRules } from '../../keys.js'
import { MAX_KEY_BYTES } from './protocol.js'

/**
 * The memcached keys of one lock. Each lock uses up to three kinds of item, all named from the
 * store key (prefix + name) made safe for memcached, plus a suffix saying what the item is:
 *
 * - `<base>~lock`: the lock record (who holds it, in which mode); its ttl is the lock's.
 * - `<base>~fence`: the fencing counter.
 * - `<base>~holder~<hash of owner>`: one per shared holder; its ttl is that holder's.
 *
 * Every key carries a suffix, the lock record too, so a lock named `x~fence` cannot land on the
 * counter of the lock named `x`: the suffixes end differently (`k`, `~fence`, 32 hex digits), and
 * each has a fixed length, so two keys are equal only when kind and base are.
 */

const LOCK_SUFFIX = '~lock'
const FENCE_SUFFIX = '~fence'
const HOLDER_SUFFIX = '~holder~'
/** 128 bits of SHA-256: owners are random tokens, so a shorter digest keeps more of the name readable. */
const HOLDER_DIGEST_HEX = 32
const LONGEST_SUFFIX = HOLDER_SUFFIX.length + HOLDER_DIGEST_HEX

/**
 * memcached keys are at most 250 bytes with no spaces or control characters (its text protocol
 * splits on them, and other clients of the same server use it). The room for the base leaves
 * space for the longest suffix, so no derived key can exceed the limit.
 */
export const MEMCACHED_KEY_RULES: SafeKeyRules = {
  maxBytes: MAX_KEY_BYTES - LONGEST_SUFFIX,
  // Space, C0 controls and DEL: the bytes memcached's text protocol cannot carry in a key.
  forbidden: /[\u0000-\u0020\u007f]/,
}

export interface LockKeys {
  /** The lock record. Also the routing key: every item of this lock lives on its server. */
  readonly lock: string
  readonly fence: string
  holder(owner: string): string
}

/** The memcached keys of the lock stored under `key` (any JavaScript string). */
export function lockKeys(key: string): LockKeys {
  const base = safeKey(key, MEMCACHED_KEY_RULES)
  return {
    lock: base + LOCK_SUFFIX,
    fence: base + FENCE_SUFFIX,
    holder: (owner) => base + HOLDER_SUFFIX + createHash('sha256').update(keyBytes(owner)).digest('hex').slice(0, HOLDER_DIGEST_HEX),
  }
}
