import { afterAll, describe, it } from 'vitest'
import { lockStoreContract } from '@cachelock/core/testing'
import { closeAll, openStore, tempPath } from './helpers.js'

afterAll(closeAll)

lockStoreContract({ describe, it, afterAll }, 'SqliteStore (temp file)', () => openStore(), { waiters: true })
lockStoreContract(
  { describe, it, afterAll },
  'SqliteStore (own table, no WAL)',
  () => openStore(tempPath(), { table: 'app_locks', wal: false }),
  { waiters: true },
)
