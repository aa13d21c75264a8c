import { afterAll, describe, expect, test } from 'vitest'
import { createLockManager, type LockManager } from '../../../src/lock-manager.js'
import { MODES, closeAll, request, sleep, storeFor, uniqueKey } from './helpers.js'

afterAll(closeAll)

describe.each(MODES)('fairness queue in the store on %s', (mode) => {
  const store = storeFor(mode)

  test('a free lock goes to the longest-waiting live manager; others are told how long to wait', async () => {
    const key = uniqueKey('turn')
    const holder = request(key)
    await store.acquire(holder)
    // Two managers wait in this order.
    expect((await store.acquire(request(key, { clientId: 'first', waiting: true }))).granted).toBe(false)
    expect((await store.acquire(request(key, { clientId: 'second', waiting: true }))).granted).toBe(false)
    await store.release(key, holder.owner)

    // The releasing manager asks again at once, and so does the second waiter: both refused.
    const again = await store.acquire(request(key, { clientId: 'c0' }))
    expect(again).toEqual({ granted: false, retryInMs: expect.any(Number) })
    if (!again.granted) expect(again.retryInMs).toBeLessThanOrEqual(500)
    expect((await store.acquire(request(key, { clientId: 'second', waiting: true }))).granted).toBe(false)
    const first = request(key, { clientId: 'first', waiting: true })
    expect((await store.acquire(first)).granted).toBe(true)

    await store.release(key, first.owner)
    expect((await store.acquire(request(key, { clientId: 'c0', waiting: true }))).granted).toBe(false)
    expect((await store.acquire(request(key, { clientId: 'second', waiting: true }))).granted).toBe(true)
  })

  test('a one-off attempt (ifAvailable) never takes a turn', async () => {
    const key = uniqueKey('once')
    const holder = request(key)
    await store.acquire(holder)
    expect((await store.acquire(request(key, { clientId: 'probe', waiting: false }))).granted).toBe(false)
    await store.release(key, holder.owner)
    expect((await store.acquire(request(key, { clientId: 'other' }))).granted).toBe(true)
  })

  test('a waiter that stops asking loses its turn within the handoff grace', async () => {
    const graceful = storeFor(mode, { handoffGraceMs: 100 })
    const key = uniqueKey('gone')
    const holder = request(key)
    await graceful.acquire(holder)
    // pollMs 10 s: by liveness alone it would keep its turn for 20 s.
    await graceful.acquire(request(key, { clientId: 'gone', waiting: true, pollMs: 10_000 }))
    await graceful.release(key, holder.owner)
    const refused = await graceful.acquire(request(key, { clientId: 'other' }))
    expect(refused.granted).toBe(false)
    if (!refused.granted) expect(refused.retryInMs).toBeLessThanOrEqual(100)
    await sleep(120)
    expect((await graceful.acquire(request(key, { clientId: 'other' }))).granted).toBe(true)
  })

  test('a writer waiting behind readers keeps its turn while it keeps asking: new readers queue behind it', async () => {
    const key = uniqueKey('writer')
    const reader = request(key, { mode: 'shared' })
    await store.acquire(reader)
    const ask = () => store.acquire(request(key, { clientId: 'writer', waiting: true }))
    expect((await ask()).granted).toBe(false)
    // Longer than the handoff grace: the lock is held by a reader, not left unclaimed.
    for (let i = 0; i < 7; i++) {
      expect((await store.acquire(request(key, { mode: 'shared', clientId: 'late-reader', waiting: true }))).granted).toBe(false)
      await sleep(100)
      expect((await ask()).granted).toBe(false)
    }
    await store.release(key, reader.owner)
    expect((await store.acquire(request(key, { mode: 'shared', clientId: 'late-reader', waiting: true }))).granted).toBe(false)
    expect((await ask()).granted).toBe(true)
  })

  test('a waiter that stops polling is forgotten after its liveness (2 polls + 100 ms)', async () => {
    const key = uniqueKey('stale')
    const holder = request(key, { ttlMs: 1000 })
    await store.acquire(holder)
    await store.acquire(request(key, { clientId: 'stale', waiting: true, pollMs: 20 }))
    await sleep(160)
    await store.release(key, holder.owner)
    expect((await store.acquire(request(key, { clientId: 'other' }))).granted).toBe(true)
  })
})

/**
 * Two managers on two connections contend for one name, each with `waiters` local workers that
 * take the lock, hold it for `holdMs`, and ask again, for `durationMs`. Returns each manager's grants.
 */
async function contend(managers: LockManager[], name: string, waiters: number, durationMs: number, holdMs: number): Promise<number[]> {
  const grants = managers.map(() => 0)
  let inside = 0
  const deadline = performance.now() + durationMs
  await Promise.all(
    managers.flatMap((locks, m) =>
      Array.from({ length: waiters }, async () => {
        while (performance.now() < deadline) {
          await locks.withLock(name, async () => {
            inside++
            expect(inside).toBe(1)
            grants[m]!++
            await sleep(holdMs)
            inside--
          })
        }
      }),
    ),
  )
  return grants
}

describe.each(MODES)('LockManager over RedisStore on %s', (mode) => {
  test('two managers with 8 waiters each exclude each other and share the lock fairly', async () => {
    const managers = [0, 1].map(() => createLockManager({ store: storeFor(mode), prefix: 'fair:', ttl: 5000 }))
    const grants = await contend(managers, uniqueKey('fair'), 8, 3000, 2)
    const total = grants[0]! + grants[1]!
    const shares = grants.map((g) => g / total)
    console.log(
      `[${mode}] grants per manager: ${grants.join(' / ')} (shares ${shares.map((s) => s.toFixed(2)).join(' / ')}, ${total} grants in 3 s)`,
    )
    expect(total).toBeGreaterThan(50)
    for (const share of shares) expect(share).toBeGreaterThanOrEqual(0.3)
  })

  test('readers and writers in two managers: exclusion holds, and every kind of worker makes progress', async () => {
    const managers = [0, 1].map(() => createLockManager({ store: storeFor(mode), prefix: 'rw:', ttl: 5000 }))
    const name = uniqueKey('rw')
    const grants = { reads: [0, 0], writes: [0, 0] }
    let readers = 0
    let writers = 0
    const deadline = performance.now() + 2000
    await Promise.all(
      managers.flatMap((locks, m) =>
        (['shared', 'exclusive', 'shared', 'exclusive', 'shared', 'exclusive'] as const).map(async (lockMode) => {
          while (performance.now() < deadline) {
            await locks.request(name, { mode: lockMode }, async () => {
              if (lockMode === 'exclusive') {
                expect(readers + writers).toBe(0)
                writers++
                grants.writes[m]!++
              } else {
                expect(writers).toBe(0)
                readers++
                grants.reads[m]!++
              }
              await sleep(2)
              if (lockMode === 'exclusive') writers--
              else readers--
            })
          }
        }),
      ),
    )
    console.log(`[${mode}] reads per manager ${grants.reads.join(' / ')}, writes per manager ${grants.writes.join(' / ')}`)
    for (const count of [...grants.reads, ...grants.writes]) expect(count).toBeGreaterThan(10)
  })

  test('a waiter with sleep: 10000 is handed the lock right after release', async () => {
    const holderLocks = createLockManager({ store: storeFor(mode), prefix: 'handoff:' })
    const waiterLocks = createLockManager({ store: storeFor(mode), prefix: 'handoff:', sleep: 10_000 })
    const name = uniqueKey('handoff')
    const samples: number[] = []
    for (let i = 0; i < 5; i++) {
      const held = await holderLocks.acquire(name)
      let grantedAt = 0
      const waiting = waiterLocks.withLock(name, () => {
        grantedAt = performance.now()
      })
      // Let the waiter be refused, subscribe and settle into its 10 s sleep.
      await sleep(100)
      expect(grantedAt).toBe(0)
      const releasedAt = performance.now()
      await held.release()
      await waiting
      samples.push(grantedAt - releasedAt)
    }
    const sorted = [...samples].sort((a, b) => a - b)
    console.log(`[${mode}] handoff after release: ${sorted.map((ms) => ms.toFixed(2)).join(', ')} ms`)
    // Woken by the release's notification, not by its 10 s sleep (the bound leaves room for a busy machine).
    for (const ms of samples) expect(ms).toBeLessThan(2000)
  })
})
