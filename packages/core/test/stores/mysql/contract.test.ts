import { afterAll, describe, it } from 'vitest'
import { lockStoreContract } from '@cachelock/core/testing'
import { closeAll, openStore, uniqueTable } from './helpers.js'

afterAll(closeAll)

lockStoreContract({ describe, it, afterAll }, 'MysqlStore (MariaDB)', () => openStore())
lockStoreContract({ describe, it, afterAll }, 'MysqlStore (MariaDB, own table)', () => openStore({ table: uniqueTable('contract') }))
