import assert from 'node:assert/strict'
import type { LockListing, LockStore } from '@cachelock/core'
import { grant, request, sleep, type ContractContext } from './context.js'

/** Everything `store.list(prefix, pattern)` yields, by name (the key after `prefix`). */
async function listed(store: LockStore, prefix: string, pattern?: string): Promise<Map<string, LockListing>> {
  const listings = store.list?.(prefix, pattern)
  assert.ok(listings, 'the store has no list()')
  const found = new Map<string, LockListing>()
  for await (const listing of listings) {
    assert.ok(listing.key.startsWith(prefix), `listed ${JSON.stringify(listing.key)}, outside ${JSON.stringify(prefix)}`)
    const name = listing.key.slice(prefix.length)
    assert.ok(!found.has(name), `listed ${JSON.stringify(name)} twice`)
    found.set(name, listing)
  }
  return found
}

const sortedNames = (found: Map<string, LockListing>) => [...found.keys()].sort()

/**
 * `LockStore.list`, for stores that implement it (`lockStoreContract(…, { list: true })`). Each
 * test lists under a prefix of its own, so other tests' locks never show.
 */
export function listContract({ api, store, key, owner, ttl, pastExpiry }: ContractContext): void {
  const { it } = api

  it('list: every held lock under the prefix, with its holders, their ttl and the last fencing token', async () => {
    const prefix = `${key('list')}:`
    const x = owner()
    const xToken = await grant(store(), `${prefix}order:1`, x, 60_000)
    const [r1, r2] = [owner(), owner()]
    await grant(store(), `${prefix}report`, r1, 60_000, 'shared')
    const sharedToken = await grant(store(), `${prefix}report`, r2, 60_000, 'shared')
    await grant(store(), `${key('elsewhere')}:order:1`, owner(), 60_000)
    const found = await listed(store(), prefix)
    assert.deepEqual(sortedNames(found), ['order:1', 'report'])
    const exclusive = found.get('order:1')!
    assert.deepEqual(
      exclusive.holders.map((holder) => [holder.owner, holder.mode]),
      [[x, 'exclusive']],
    )
    const remaining = exclusive.holders[0]!.expiresInMs
    if (remaining !== undefined) assert.ok(remaining > 0 && remaining <= 60_000, `remaining ${remaining}`)
    if (exclusive.fencingToken !== undefined) assert.equal(exclusive.fencingToken, xToken)
    const shared = found.get('report')!
    assert.deepEqual(shared.holders.map((holder) => holder.owner).sort(), [r1, r2].sort())
    assert.ok(shared.holders.every((holder) => holder.mode === 'shared'))
    if (shared.fencingToken !== undefined) assert.equal(shared.fencingToken, sharedToken)
  })

  it('list: leaves out released, force-released and expired locks', async () => {
    const prefix = `${key('list-free')}:`
    const a = owner()
    await grant(store(), `${prefix}released`, a, 60_000)
    await store().release(`${prefix}released`, a)
    await grant(store(), `${prefix}forced`, owner(), 60_000)
    await store().forceRelease(`${prefix}forced`)
    await grant(store(), `${prefix}expired`, owner(), ttl)
    await grant(store(), `${prefix}expired-shared`, owner(), ttl, 'shared')
    await grant(store(), `${prefix}held`, owner(), 60_000)
    await sleep(pastExpiry)
    assert.deepEqual(sortedNames(await listed(store(), prefix)), ['held'])
  })

  it('list: a pattern matches names with * and ?, and \\ makes a character literal', async () => {
    const prefix = `${key('list-pattern')}:`
    const names = ['order:1', 'order:12', 'order:*', 'sku:1', 'xorder:1', 'order:😀']
    for (const name of names) await grant(store(), prefix + name, owner(), 60_000)
    assert.deepEqual(sortedNames(await listed(store(), prefix, 'order:*')), ['order:*', 'order:1', 'order:12', 'order:😀'])
    assert.deepEqual(sortedNames(await listed(store(), prefix, 'order:?')), ['order:*', 'order:1', 'order:😀'])
    assert.deepEqual(sortedNames(await listed(store(), prefix, 'order:\\*')), ['order:*'])
    assert.deepEqual(sortedNames(await listed(store(), prefix, '*:1')), ['order:1', 'sku:1', 'xorder:1'])
    assert.deepEqual(sortedNames(await listed(store(), prefix, 'sku:1')), ['sku:1'])
    assert.deepEqual(sortedNames(await listed(store(), prefix, 'sku:2')), [])
  })

  it('list: names come back exactly, whatever characters they hold', async () => {
    const prefix = `${key('list-names')}:`
    const names = ['', 'a}b', '{x}', '%7D', '%00', '%', 'line\nbreak', 'lone \uD800 surrogate', '\uDC00', '[a-z]', 'back\\slash', 'é😀']
    for (const name of names) await grant(store(), prefix + name, owner(), 60_000)
    assert.deepEqual(sortedNames(await listed(store(), prefix)), [...names].sort())
    for (const name of names) {
      const escaped = name.replace(/[\\*?]/g, '\\$&')
      assert.deepEqual(sortedNames(await listed(store(), prefix, escaped)), [name], `pattern for ${JSON.stringify(name)}`)
    }
  })

  it('list: an exact name that is free yields nothing', async () => {
    const prefix = `${key('list-free-name')}:`
    const r = request(`${prefix}gone`, owner(), 'exclusive', 60_000)
    await store().acquire(r)
    await store().release(r.key, r.owner)
    assert.deepEqual(sortedNames(await listed(store(), prefix, 'gone')), [])
  })
}
