import assert from 'node:assert/strict'
import { grant, request, sleep, type ContractContext } from './context.js'

/** Read/write locks: shared holders coexist, exclusive excludes them, each shared holder is owner-checked. */
export function sharedContract({ api, store, key, owner, ttl, pastExpiry }: ContractContext): void {
  const { it } = api
  const long = 30_000

  it('grants shared holders together and refuses exclusive while any is live', async () => {
    const k = key('shared')
    const a = owner()
    const b = owner()
    const first = await grant(store(), k, a, long, 'shared')
    const second = await grant(store(), k, b, long, 'shared')
    assert.ok(second > first)
    assert.equal((await store().acquire(request(k, owner(), 'exclusive', long))).granted, false)
    assert.deepEqual((await store().holders(k)).map((h) => h.mode).sort(), ['shared', 'shared'])
    assert.equal(await store().release(k, a), true)
    assert.equal((await store().acquire(request(k, owner(), 'exclusive', long))).granted, false)
    assert.equal(await store().release(k, b), true)
    assert.equal((await store().acquire(request(k, owner(), 'exclusive', long))).granted, true)
  })

  it('refuses shared while an exclusive holder is live', async () => {
    const k = key('shared-vs-exclusive')
    await grant(store(), k, owner(), long)
    assert.equal((await store().acquire(request(k, owner(), 'shared', long))).granted, false)
  })

  it('owner-checks each shared holder and expires them one by one', async () => {
    const k = key('shared-owners')
    const short = owner()
    const kept = owner()
    await grant(store(), k, short, ttl, 'shared')
    await grant(store(), k, kept, long, 'shared')
    assert.equal(await store().release(k, owner()), false)
    assert.equal(await store().extend(k, owner(), long), false)
    await sleep(pastExpiry)
    assert.deepEqual(
      (await store().holders(k)).map((h) => h.owner),
      [kept],
    )
    assert.equal(await store().extend(k, short, long), false)
    assert.equal(await store().extend(k, kept, long), true)
    assert.equal((await store().acquire(request(k, owner(), 'exclusive', long))).granted, false)
  })

  it('lets an exclusive request in once the last shared holder expires', async () => {
    const k = key('shared-expire')
    await grant(store(), k, owner(), ttl, 'shared')
    await sleep(pastExpiry)
    assert.equal((await store().acquire(request(k, owner(), 'exclusive', long))).granted, true)
  })

  it('steals from every shared holder', async () => {
    const k = key('shared-steal')
    const a = owner()
    const b = owner()
    await grant(store(), k, a, long, 'shared')
    await grant(store(), k, b, long, 'shared')
    const thief = owner()
    await store().steal({ key: k, owner: thief, ttlMs: long, clientId: 'contract' })
    assert.equal(await store().extend(k, a, long), false)
    assert.equal(await store().release(k, b), false)
    assert.deepEqual(
      (await store().holders(k)).map((h) => [h.owner, h.mode]),
      [[thief, 'exclusive']],
    )
  })

  it('admits many concurrent shared holders and no exclusive among them', async () => {
    const k = key('shared-race')
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => store().acquire(request(k, owner(), i % 5 === 0 ? 'exclusive' : 'shared', long))),
    )
    const granted = results.filter((r) => r.granted).length
    const holders = await store().holders(k)
    const modes = new Set(holders.map((h) => h.mode))
    assert.equal(holders.length, granted)
    assert.ok(modes.size === 1, 'never shared and exclusive at once')
    if (modes.has('exclusive')) assert.equal(granted, 1)
  })
}
