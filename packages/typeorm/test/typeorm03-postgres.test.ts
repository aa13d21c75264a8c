import { describe } from 'vitest'
import { useEnv } from './support/env.js'
import { adapterSuites } from './suites/index.js'

describe('TypeORM 0.3 on PostgreSQL, memory store', () => {
  adapterSuites(useEnv({ line: '0.3', db: 'postgres', store: 'memory' }))
})
