import { afterAll, describe, it } from 'vitest'
import { lockStoreContract } from '@cachelock/core/testing'
import { appPool, closeAll, openStore, uniqueTable } from './helpers.js'

afterAll(closeAll)

lockStoreContract({ describe, it, afterAll }, 'MysqlStore (MariaDB)', () => openStore(), { waiters: true })
lockStoreContract({ describe, it, afterAll }, 'MysqlStore (MariaDB, own table)', () => openStore({ table: uniqueTable('contract') }), {
  waiters: true,
})
// An app pool that counts changed rather than matched rows (no FOUND_ROWS flag): an extend that sets
// the expiry it already had must still count as held.
lockStoreContract(
  { describe, it, afterAll },
  'MysqlStore (MariaDB, pool without FOUND_ROWS)',
  () => openStore({}, appPool({ flags: ['-FOUND_ROWS'] })),
  { waiters: true },
)
