import { describe } from 'vitest'
import { useEnv } from './support/env.js'
import { adapterSuites } from './suites/index.js'

describe('TypeORM 0.3 on SQLite (better-sqlite3), memory store', () => {
  adapterSuites(useEnv({ line: '0.3', db: 'sqlite', store: 'memory' }))
})
