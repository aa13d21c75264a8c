import { describe } from 'vitest'
import { useEnv } from './support/env.js'
import { adapterSuites } from './suites/index.js'

describe('TypeORM 1.x on PostgreSQL, Redis store', () => {
  adapterSuites(useEnv({ line: '1.x', db: 'postgres', store: 'redis' }))
})
