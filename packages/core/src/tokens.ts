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

/** Hex digits by value, as bytes. */
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1')
/** Where owner tokens are spelt out: `<clientId>:` (written once per clientId), then the random hex. */
let spelling = Buffer.allocUnsafe(0)
let spelt = ''

/**
 * A fresh owner token for one grant: `<clientId>:<128 random bits in hex>`. Spelt out in a buffer
 * and read back as one string, so a held lock keeps one flat string, rather than the pieces a
 * concatenation keeps and the flat copy a store's client makes of them.
 */
export function newOwnerToken(clientId: string): string {
  const prefix = clientId.length + 1
  if (clientId !== spelt) {
    // A client id of anything but printable ASCII (never one newClientId makes) is concatenated.
    if (!/^[\x20-\x7e]*$/.test(clientId)) return `${clientId}:${randomHex(16)}`
    spelling = Buffer.allocUnsafe(prefix + 32)
    spelling.write(`${clientId}:`, 'latin1')
    spelt = clientId
  }
  if (offset + 16 > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_SIZE))
    offset = 0
  }
  for (let i = 0; i < 16; i++) {
    const byte = pool[offset + i]!
    spelling[prefix + 2 * i] = HEX_DIGITS[byte >> 4]!
    spelling[prefix + 2 * i + 1] = HEX_DIGITS[byte & 15]!
  }
  offset += 16
  return spelling.toString('latin1', 0, prefix + 32)
}

/** The manager that made an owner token (for `query()`), or the whole token when it is foreign. */
export function clientIdOf(owner: string): string {
  const colon = owner.indexOf(':')
  return colon === -1 ? owner : owner.slice(0, colon)
}
