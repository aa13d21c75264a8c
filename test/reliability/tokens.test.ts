import crypto from 'node:crypto'
import { syncBuiltinESMExports } from 'node:module'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { createLockManager, MemoryStore, type AcquireRequest, type AcquireResult, type Granted, type StealRequest } from '@cachelock/core'
import { report } from './support/report.js'
import { nowMs } from './support/timing.js'

// Slow on a loaded 2-core machine; every wait inside has its own, tighter bound.
vi.setConfig({ testTimeout: 90_000 })

/**
 * Owner tokens are what every owner-checked operation compares: a guessable or repeated token
 * would let one holder release or extend another's lock. Over 100 000 grants (on the memory
 * store, where they are cheap; every store receives the manager's tokens unchanged):
 * - each carries at least 128 random bits, and none repeats;
 * - those bits come from node:crypto's CSPRNG (every byte of every token is found in what the
 *   CSPRNG handed out while they were made);
 * - they look random: ones and zeros balanced overall and at each bit position.
 */
const GRANTS = 100_000

/** A memory store that remembers every owner token it is handed. */
class RecordingStore extends MemoryStore {
  readonly owners: string[] = []
  override acquire(request: AcquireRequest): Promise<AcquireResult> {
    this.owners.push(request.owner)
    return super.acquire(request)
  }
  override steal(request: StealRequest): Promise<Granted> {
    this.owners.push(request.owner)
    return super.steal(request)
  }
}

// Wrap node:crypto's random sources (and re-export them to ESM importers) to see their output.
const produced: Buffer[] = []
const originals = { randomFillSync: crypto.randomFillSync, randomBytes: crypto.randomBytes }
beforeAll(() => {
  crypto.randomFillSync = ((buffer: NodeJS.ArrayBufferView, ...rest: unknown[]) => {
    const filled = (originals.randomFillSync as (...args: unknown[]) => NodeJS.ArrayBufferView)(buffer, ...rest)
    produced.push(Buffer.from(filled.buffer, filled.byteOffset, filled.byteLength))
    return filled
  }) as typeof crypto.randomFillSync
  crypto.randomBytes = ((size: number, ...rest: unknown[]) => {
    const bytes = (originals.randomBytes as (...args: unknown[]) => Buffer)(size, ...rest)
    if (Buffer.isBuffer(bytes)) produced.push(bytes)
    return bytes
  }) as typeof crypto.randomBytes
  syncBuiltinESMExports()
})
afterAll(() => {
  Object.assign(crypto, originals)
  syncBuiltinESMExports()
})

/** The random part of an owner token (`<clientId>:<random>`), as bytes: hex or base64url. */
function randomPart(owner: string): Buffer {
  const part = owner.slice(owner.lastIndexOf(':') + 1)
  return /^[0-9a-f]+$/.test(part) && part.length % 2 === 0 ? Buffer.from(part, 'hex') : Buffer.from(part, 'base64url')
}

describe('owner tokens', () => {
  test(`${GRANTS.toLocaleString('en')} grants: ≥ 128 random bits each, from the CSPRNG, never repeated`, async () => {
    const store = new RecordingStore()
    const locks = createLockManager({ store })
    const started = nowMs()
    // Several names and all three entry points, so tokens come from every code path that mints them.
    for (let i = 0; i < GRANTS; i += 4) {
      await locks.withLock(`n${i % 7}`, () => undefined)
      await (await locks.acquire(`n${i % 5}`)).release()
      await (await locks.tryAcquire(`n${i % 3}`))!.release()
      await (await locks.acquire(`n${i % 11}`, { steal: true })).release()
    }
    const ms = nowMs() - started
    const owners = store.owners
    expect(owners.length).toBeGreaterThanOrEqual(GRANTS)

    const parts = owners.map(randomPart)
    expect(Math.min(...parts.map((part) => part.length * 8))).toBeGreaterThanOrEqual(128)
    expect(new Set(owners).size).toBe(owners.length)
    expect(new Set(parts.map((part) => part.toString('hex'))).size).toBe(owners.length)

    // Every random part appears, byte for byte, in what the CSPRNG produced. Indexed by windows
    // at 8-byte steps (the pool hands out 8- and 16-byte slices), with a full search for any miss.
    // Tokens drawn from bytes produced before the wrapper was installed (one pool at most) miss.
    const all = Buffer.concat(produced)
    const windows = new Set<string>()
    const width = parts[0]!.length
    for (const buffer of produced)
      for (let at = 0; at + width <= buffer.length; at += 8) windows.add(buffer.toString('hex', at, at + width))
    let untraced = 0
    for (const part of parts) if (!windows.has(part.toString('hex')) && all.indexOf(part) === -1) untraced++
    const traced = parts.length - untraced
    expect(untraced).toBeLessThanOrEqual(4096 / 16)

    // Balance: 100 000 × 128 bits; a counter, a timestamp or a weak generator would be far off.
    const perPosition = new Array<number>(128).fill(0)
    let ones = 0
    for (const part of parts) {
      for (let bit = 0; bit < 128; bit++) {
        if ((part[bit >> 3]! >> (7 - (bit & 7))) & 1) {
          perPosition[bit]!++
          ones++
        }
      }
    }
    const overall = ones / (parts.length * 128)
    const worstPosition = Math.max(...perPosition.map((count) => Math.abs(count / parts.length - 0.5)))
    expect(Math.abs(overall - 0.5)).toBeLessThan(0.001) // ±7 σ
    expect(worstPosition).toBeLessThan(0.01) // ±6 σ
    report(
      'tokens',
      {
        grants: owners.length,
        ms,
        distinct: new Set(owners).size,
        bits: parts[0]!.length * 8,
        overallOnes: overall,
        worstPosition,
        traced,
      },
      `${owners.length} grants in ${(ms / 1000).toFixed(1)} s: all distinct, ${parts[0]!.length * 8} random bits each, ` +
        `${traced} traced to node:crypto output, ones ${(overall * 100).toFixed(3)} %, worst bit position off by ${(worstPosition * 100).toFixed(2)} %`,
    )
  })
})
