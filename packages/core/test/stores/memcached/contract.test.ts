import { afterAll, describe, it } from 'vitest'
import { lockStoreContract } from '@cachelock/core/testing'
import { SETUPS, closeAll, openStore } from './helpers.js'

afterAll(closeAll)

// The suite's expiry tests wait for whole memcached seconds; every test uses keys of its own, so
// the tests of each run go concurrently to keep the file fast.
for (const [label, url] of SETUPS) {
  lockStoreContract({ describe: describe.concurrent, it, afterAll }, `MemcachedStore (${label})`, () => openStore(url), {
    ttlGranularityMs: 1000,
    // A 1000 ms lock is kept 3 whole seconds (see stores/memcached/expiry.ts): at most about 3 s.
    expiryGraceMs: 2500,
  })
}
