import type { BenchCase } from '../context.js'
import { mariadbStore, postgresStore, sqliteStore } from './databases.js'
import { handoff } from './handoff.js'
import { heldLocks } from './held-locks.js'
import { memcached } from './memcached.js'
import { memory } from './memory.js'
import { prismaCase } from './prisma.js'
import { redisBurst } from './redis-burst.js'
import { redisContended } from './redis-contended.js'
import { redisUncontended } from './redis-uncontended.js'
import { redisWaitReplicas } from './redis-wait-replicas.js'

/** Every case, in the order they run and are reported. */
export const CASES: readonly BenchCase[] = [
  redisUncontended,
  redisContended,
  redisBurst,
  handoff,
  memory,
  memcached,
  postgresStore,
  mariadbStore,
  sqliteStore,
  prismaCase,
  heldLocks,
  redisWaitReplicas,
]
