import assert from 'node:assert/strict'
import { grant, request, sleep, until, type ContractContext } from './context.js'

/** Exclusive locks: grant, refuse, owner-checked release and extend, expiry, fencing, steal, keys, wake-ups. */
export function exclusiveContract({ api, store, key, owner, ttl, pastExpiry }: ContractContext): void {
  const { it } = api
  const long = 30_000

  it('grants a free key with a fencing token', async () => {
    const result = await store().acquire(request(key('free'), owner(), 'exclusive', long))
    assert.equal(result.granted, true)
    assert.ok(result.granted && Number.isSafeInteger(result.fencingToken) && result.fencingToken > 0)
  })

  it('refuses a held key, saying how long the holder has left', async () => {
    const k = key('held')
    await grant(store(), k, owner(), long)
    const result = await store().acquire(request(k, owner(), 'exclusive', long))
    assert.equal(result.granted, false)
    if (!result.granted && result.retryInMs !== undefined)
      assert.ok(result.retryInMs >= 0 && result.retryInMs <= long, `retryInMs ${result.retryInMs}`)
  })

  it('grants exactly one of many concurrent requests', async () => {
    const k = key('race')
    const results = await Promise.all(Array.from({ length: 40 }, () => store().acquire(request(k, owner(), 'exclusive', long))))
    assert.equal(results.filter((r) => r.granted).length, 1)
  })

  it('releases only for the owner', async () => {
    const k = key('release')
    const a = owner()
    await grant(store(), k, a, long)
    assert.equal(await store().release(k, owner()), false)
    assert.equal((await store().holders(k)).length, 1)
    assert.equal(await store().release(k, a), true)
    assert.deepEqual(await store().holders(k), [])
    assert.equal(await store().release(k, a), false)
    assert.equal((await store().acquire(request(k, owner(), 'exclusive', long))).granted, true)
  })

  it('extends only for the owner, and an extended lock outlives its first ttl', async () => {
    const k = key('extend')
    const a = owner()
    await grant(store(), k, a, ttl)
    assert.equal(await store().extend(k, owner(), long), false)
    assert.equal(await store().extend(k, a, long), true)
    await sleep(pastExpiry)
    assert.deepEqual(
      (await store().holders(k)).map((h) => h.owner),
      [a],
    )
  })

  it('expires a lock after its ttl, by the store clock', async () => {
    const k = key('expire')
    const a = owner()
    await grant(store(), k, a, ttl)
    await sleep(pastExpiry)
    assert.deepEqual(await store().holders(k), [])
    assert.equal((await store().acquire(request(k, owner(), 'exclusive', long))).granted, true)
  })

  it('never lets a stale holder release or extend the next holder’s lock', async () => {
    const k = key('stale')
    const a = owner()
    const b = owner()
    await grant(store(), k, a, ttl)
    await sleep(pastExpiry)
    await grant(store(), k, b, long)
    assert.equal(await store().release(k, a), false)
    assert.equal(await store().extend(k, a, long), false)
    assert.deepEqual(
      (await store().holders(k)).map((h) => h.owner),
      [b],
    )
  })

  it('hands out strictly increasing fencing tokens across release, expiry and steal', async () => {
    const k = key('fence')
    const tokens: number[] = []
    const a = owner()
    tokens.push(await grant(store(), k, a, long))
    await store().release(k, a)
    const b = owner()
    tokens.push(await grant(store(), k, b, ttl))
    await sleep(pastExpiry)
    tokens.push(await grant(store(), k, owner(), long))
    tokens.push((await store().steal({ key: k, owner: owner(), ttlMs: long, clientId: 'contract' })).fencingToken)
    for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! > tokens[i - 1]!, `tokens ${tokens.join(', ')}`)
  })

  it('steals from the holder, whose release and extend then fail', async () => {
    const k = key('steal')
    const a = owner()
    const first = await grant(store(), k, a, long)
    const thief = owner()
    const { fencingToken } = await store().steal({ key: k, owner: thief, ttlMs: long, clientId: 'contract' })
    assert.ok(fencingToken > first)
    assert.equal(await store().extend(k, a, long), false)
    assert.equal(await store().release(k, a), false)
    assert.deepEqual(
      (await store().holders(k)).map((h) => [h.owner, h.mode]),
      [[thief, 'exclusive']],
    )
  })

  it('force-releases whoever holds the key', async () => {
    const k = key('force')
    assert.equal(await store().forceRelease(k), false)
    await grant(store(), k, owner(), long)
    assert.equal(await store().forceRelease(k), true)
    assert.deepEqual(await store().holders(k), [])
  })

  it('reports holders with mode and remaining ttl', async () => {
    const k = key('holders')
    assert.deepEqual(await store().holders(k), [])
    const a = owner()
    await grant(store(), k, a, long)
    const [holder, ...rest] = await store().holders(k)
    assert.equal(rest.length, 0)
    assert.equal(holder?.owner, a)
    assert.equal(holder?.mode, 'exclusive')
    if (holder?.expiresInMs !== undefined) assert.ok(holder.expiresInMs > 0 && holder.expiresInMs <= long + 1000)
  })

  it('keeps distinct keys distinct: empty, long, odd characters, lone surrogates', async () => {
    const base = key('odd')
    const suffixes = [
      '',
      ' ',
      '\n',
      '{',
      '}',
      '{x}',
      '"\'',
      'redis.call("FLUSHALL")',
      'x'.repeat(10_000),
      '\uD800',
      '\uDC00',
      '\uFFFD',
      '\u0000',
      'ü',
      'u\u0308',
    ]
    const keys = suffixes.map((suffix) => base + suffix)
    for (const k of keys)
      assert.equal(
        (await store().acquire(request(k, owner(), 'exclusive', long))).granted,
        true,
        `first grant of ${JSON.stringify(k.slice(-20))}`,
      )
    for (const k of keys)
      assert.equal(
        (await store().acquire(request(k, owner(), 'exclusive', long))).granted,
        false,
        `second grant of ${JSON.stringify(k.slice(-20))}`,
      )
    // The bare empty key (a manager with prefix '' and name ''): the store must accept it.
    const bare = await store().acquire(request('', owner(), 'exclusive', ttl))
    assert.equal(typeof bare.granted, 'boolean')
    await store().forceRelease('')
  })

  it('wakes subscribers on release, steal and force-release (when it has wake-ups)', async () => {
    const s = store()
    if (!s.onRelease) return
    const k = key('wake')
    let wakes = 0
    const unsubscribe = s.onRelease(k, () => wakes++)
    try {
      await until(() => wakes >= 1, 'the wake-up once the subscription is active')
      const a = owner()
      await grant(s, k, a, long)
      let before = wakes
      await s.release(k, a)
      await until(() => wakes > before, 'a wake-up on release')
      await grant(s, k, owner(), long)
      before = wakes
      await s.steal({ key: k, owner: owner(), ttlMs: long, clientId: 'contract' })
      await until(() => wakes > before, 'a wake-up on steal')
      before = wakes
      await s.forceRelease(k)
      await until(() => wakes > before, 'a wake-up on force-release')
    } finally {
      unsubscribe()
    }
    const after = wakes
    await grant(s, k, owner(), long)
    await s.forceRelease(k)
    await sleep(100)
    assert.equal(wakes, after, 'no wake-ups after unsubscribing')
  })
}
