import { afterAll, describe, it } from 'vitest'
import { lockStoreContract } from '@cachelock/core/testing'
import { appPool, closeAll, openStore, uniqueTable } from './helpers.js'

afterAll(closeAll)

lockStoreContract({ describe, it, afterAll }, 'PostgresStore', () => openStore(), { waiters: true })
// The fallback for a pool behind a transaction pooler: no LISTEN, waiters poll.
lockStoreContract(
  { describe, it, afterAll },
  'PostgresStore (listen: false, own table)',
  () => openStore({ listen: false, table: uniqueTable('contract') }),
  { waiters: true },
)
// A single pg Client (what an in-transaction caller holds) works too: it has no client class, so no LISTEN.
lockStoreContract({ describe, it, afterAll }, 'PostgresStore (pool of one)', () => openStore({}, appPool({ max: 1 })), { waiters: true })
