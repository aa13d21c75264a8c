import { describe } from 'vitest'
import { useEnv } from './support/env.js'
import { adapterSuites } from './suites/index.js'

describe('TypeORM 1.x on PostgreSQL, memory store', () => {
  adapterSuites(useEnv({ line: '1.x', db: 'postgres', store: 'memory' }))
})
