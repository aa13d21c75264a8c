import { randomFillSync } from 'node:crypto'

/**
 * 128-bit random tokens for the hand-written minimal lock, drawn from a pooled buffer the way
 * cachelock draws its owner tokens, so the minimal lock is not handicapped by a system call per
 * token (nor helped by a weaker source).
 */
const POOL_SIZE = 4096
let pool = Buffer.alloc(0)
let offset = 0

export function randomToken(): string {
  if (offset + 16 > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_SIZE))
    offset = 0
  }
  const token = pool.toString('hex', offset, offset + 16)
  offset += 16
  return token
}
