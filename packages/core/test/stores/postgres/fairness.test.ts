import { afterAll, describe } from 'vitest'
import { rowQueueTests } from '../row-queue.js'
import { closeAll, openStore } from './helpers.js'

afterAll(closeAll)

describe('fairness queue in the lock row (PostgresStore)', () => {
  const store = openStore()
  rowQueueTests(() => store)
})
