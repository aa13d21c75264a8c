import { afterAll, describe } from 'vitest'
import { rowQueueTests } from '../row-queue.js'
import { closeAll, openStore, tempPath } from './helpers.js'

afterAll(closeAll)

describe('fairness queue in the lock row (SqliteStore)', () => {
  const path = tempPath()
  // Two connections to one file, as two processes would have; the rules hold whichever one asks.
  const stores = [openStore(path), openStore(path)]
  let next = 0
  rowQueueTests(() => stores[next++ % 2]!)
})
