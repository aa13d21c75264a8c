import { randomFillSync } from 'node:crypto'

/**
 * Random tokens from the OS CSPRNG. Owner tokens carry 128 random bits: two holders can only
 * collide by guessing, and a token never repeats. Bytes are drawn in blocks so a grant costs a
 * slice, not a system call.
 */
const POOL_SIZE = 4096
let pool = Buffer.allocUnsafe(0)
let offset = 0

function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_SIZE))
    offset = 0
  }
  const hex = pool.toString('hex', offset, offset + bytes)
  offset += bytes
  return hex
}

/** One id per `LockManager`: what `query()` reports as `clientId`. */
export function newClientId(): string {
  return randomHex(8)
}

/** A fresh owner token for one grant: `<clientId>:<128 random bits in hex>`. */
export function newOwnerToken(clientId: string): string {
  return `${clientId}:${randomHex(16)}`
}

/** The manager that made an owner token (for `query()`), or the whole token when it is foreign. */
export function clientIdOf(owner: string): string {
  const colon = owner.indexOf(':')
  return colon === -1 ? owner : owner.slice(0, colon)
}
