import { describe } from 'vitest'
import { redisStoreAvailable, useEnv } from './support/env.js'
import { adapterSuites } from './suites/index.js'

// The Redis store is built alongside this adapter; these run as soon as core exports it.
describe.runIf(redisStoreAvailable())('TypeORM 1.x on PostgreSQL, Redis store', () => {
  adapterSuites(useEnv({ line: '1.x', db: 'postgres', store: 'redis' }))
})
