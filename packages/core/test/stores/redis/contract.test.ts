import { afterAll, describe, it } from 'vitest'
import { lockStoreContract } from '@cachelock/core/testing'
import { RedisStore } from '../../../src/stores/redis/redis-store.js'
import { MODES, closeAll, connect } from './helpers.js'

afterAll(closeAll)

for (const mode of MODES) {
  lockStoreContract({ describe, it, afterAll }, `RedisStore (${mode})`, () => new RedisStore(connect(mode)), {
    list: true,
    waiters: true,
    close: (store) => store.close?.(),
  })
  lockStoreContract(
    { describe, it, afterAll },
    `RedisStore (${mode}, keyPrefix)`,
    () => new RedisStore(connect(mode, { keyPrefix: 'contract{' })),
    {
      list: true,
      waiters: true,
      close: (store) => store.close?.(),
    },
  )
}

// ioredis 6 can speak RESP3; script replies and pub/sub pushes arrive differently there.
lockStoreContract(
  { describe, it, afterAll },
  'RedisStore (standalone, RESP3)',
  () => new RedisStore(connect('standalone', { protocol: 3 })),
  {
    list: true,
    waiters: true,
    close: (store) => store.close?.(),
  },
)
