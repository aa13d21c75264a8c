import { afterAll, describe, expect, test } from 'vitest'
import { Cluster } from 'ioredis'
import { lockKeys } from '../../../src/stores/redis/keys.js'
import { MODES, closeAll, connect, owner, request, storeFor, uniqueKey } from './helpers.js'

afterAll(closeAll)

/** `extendMany`: the renewals a manager has due in one tick, in one script per 1000 locks. */
describe.each(MODES)('RedisStore.extendMany on %s', (mode) => {
  const store = storeFor(mode)
  const raw = connect(mode)

  test('answers each renewal as extend would: held exclusive or shared, expired, taken by another', async () => {
    const base = uniqueKey('many')
    const held = Array.from({ length: 2100 }, (_, i) => request(`${base}:${i}`, { ttlMs: 20_000 }))
    for (const r of held) expect((await store.acquire(r)).granted).toBe(true)
    const reader = request(`${base}:shared`, { mode: 'shared', ttlMs: 20_000 })
    await store.acquire(reader)
    const renewals = [
      ...held.map((r) => ({ key: r.key, owner: r.owner, ttlMs: 60_000 })),
      { key: reader.key, owner: reader.owner, ttlMs: 60_000 },
      { key: held[0]!.key, owner: owner(), ttlMs: 60_000 },
      { key: `${base}:free`, owner: owner(), ttlMs: 60_000 },
    ]

    const answers = await store.extendMany(renewals)
    expect(answers).toEqual([...held.map(() => true), true, false, false])
    for (const r of [held[0]!, held[1234]!, held[2099]!]) {
      expect(await raw.pttl(lockKeys(r.key, '').exclusive as string)).toBeGreaterThan(40_000)
    }
    expect((await store.holders(reader.key))[0]!.expiresInMs).toBeGreaterThan(40_000)
    for (const r of held) await store.release(r.key, r.owner)
    await store.release(reader.key, reader.owner)
  })

  test(`is ${mode === 'standalone' ? 'one EVALSHA per 1000 locks' : 'one EXTEND per lock, on a Cluster'}`, async () => {
    const base = uniqueKey('many-count')
    const held = Array.from({ length: 2500 }, (_, i) => request(`${base}:${i}`))
    for (const r of held) await store.acquire(r)
    const monitors = await Promise.all((raw instanceof Cluster ? raw.nodes('master') : [raw]).map((node) => node.monitor()))
    let scripts = 0
    for (const monitor of monitors) {
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (source !== 'lua' && args[0]?.toLowerCase() === 'evalsha' && args.some((arg) => arg.includes(base))) scripts++
      })
    }
    expect((await store.extendMany(held.map((r) => ({ key: r.key, owner: r.owner, ttlMs: 10_000 })))).every(Boolean)).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 200))
    for (const monitor of monitors) monitor.disconnect()
    expect(scripts).toBe(mode === 'standalone' ? 3 : 2500)
    for (const r of held) await store.release(r.key, r.owner)
  })
})
