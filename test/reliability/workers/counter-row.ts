import type { LockManager } from '../../../packages/core/src/index.js'
import { lockExtension } from '../../../packages/prisma/src/index.js'

/**
 * One counter row, incremented by read-modify-writes through an ORM adapter: what a worker of the
 * fenced-updates test does, for Prisma (an Order's `total`) and TypeORM (a product's `stock`).
 * `onWritten` is called once the increment's write resolved (with `transaction: false` it is then
 * durable; in a transaction the caller counts it once `withLock` resolves).
 */
export interface CounterRow {
  /** The row's lock name. */
  readonly lockName: string
  /** Create the row at 0 (the parent does this once, before the workers start). */
  create(): Promise<void>
  value(): Promise<number>
  locked(options: LockedIncrement, onWritten: () => void): Promise<void>
  /**
   * Without the lock: read, pause, write `value + 1`. `checked`: Prisma's write names the fence
   * value it read in its `where` (TypeORM checks a fenced entity's save by itself).
   */
  unlocked(pause: () => Promise<void>, checked: boolean): Promise<void>
  close(): Promise<void>
}

export interface LockedIncrement {
  /** Between the read and the write. */
  pause: () => Promise<void>
  transaction: boolean
}

export interface CounterConfig {
  orm: 'prisma' | 'typeorm'
  db: 'sqlite' | 'postgresql'
  /** The SQLite file, or the PostgreSQL schema. */
  location: string
  /** The model has a fence column (Prisma: the extension's `fence` setting; TypeORM: FencedProduct, else Product). */
  fenced: boolean
}

const SKU = 'counter'

export async function counterRow(config: CounterConfig, locks: LockManager | undefined): Promise<CounterRow> {
  return config.orm === 'prisma' ? prismaCounter(config, locks) : typeormCounter(config, locks)
}

async function prismaCounter(config: CounterConfig, locks: LockManager | undefined): Promise<CounterRow> {
  const { connectTo } = await import('../../../packages/prisma/test/helpers/databases.js')
  const prisma = connectTo(config.db, config.location)
  const db = prisma.$extends(lockExtension({ locks, models: config.fenced ? { Order: { fence: 'lockFence' } } : {} }))
  const id = 1
  return {
    lockName: `order:id:${id}`,
    async create() {
      await prisma.order.create({ data: { id } })
    },
    async value() {
      return (await prisma.order.findUniqueOrThrow({ where: { id } })).total
    },
    async locked(options, onWritten) {
      await db.order.withLock(
        id,
        async (order, { tx }) => {
          await options.pause()
          await tx.order.update({ where: { id }, data: { total: order.total + 1 } })
          onWritten()
        },
        { transaction: options.transaction ? {} : false },
      )
    },
    async unlocked(pause, checked) {
      const order = await db.order.findUniqueOrThrow({ where: { id } })
      await pause()
      await db.order.update({ where: checked ? { id, lockFence: order.lockFence } : { id }, data: { total: order.total + 1 } })
    },
    async close() {
      await prisma.$disconnect()
    },
  }
}

interface Repo {
  insert(values: object): Promise<unknown>
  findOneByOrFail(where: object): Promise<{ stock: number }>
  save(entity: object): Promise<unknown>
  withLock(where: unknown, fn: (row: { stock: number }, manager: Repo) => Promise<void>, options: object): Promise<void>
}

async function typeormCounter(config: CounterConfig, locks: LockManager | undefined): Promise<CounterRow> {
  // Declared with legacy decorators: compiled by tsx with the TypeORM package's tsconfig (the
  // parent sets TSX_TSCONFIG_PATH); imported through a variable so the root typecheck leaves it.
  const attachModule = '../../../packages/typeorm/test/support/attach.js'
  const { attachDataSource } = (await import(attachModule)) as {
    attachDataSource: (
      kind: 'sqlite' | 'postgres',
      location: string,
      locks: LockManager | undefined,
    ) => Promise<{
      dataSource: { getRepository(target: unknown): { extend(o: unknown): Repo }; destroy(): Promise<void> }
      entities: Record<string, unknown>
    }>
  }
  const { lockableRepository } = await import('../../../packages/typeorm/src/index.js')
  const { dataSource, entities } = await attachDataSource(config.db === 'postgresql' ? 'postgres' : 'sqlite', config.location, locks)
  const repo = dataSource.getRepository(config.fenced ? entities['FencedProduct'] : entities['Product']).extend(lockableRepository)
  return {
    lockName: `${config.fenced ? 'fencedProduct' : 'product'}:sku:${SKU}`,
    async create() {
      await repo.insert({ sku: SKU, stock: 0 })
    },
    async value() {
      return (await repo.findOneByOrFail({ sku: SKU })).stock
    },
    async locked(options, onWritten) {
      await repo.withLock(
        SKU,
        async (row, manager) => {
          await options.pause()
          await manager.save(Object.assign(row, { stock: row.stock + 1 }))
          onWritten()
        },
        { transaction: options.transaction },
      )
    },
    async unlocked(pause) {
      const row = await repo.findOneByOrFail({ sku: SKU })
      await pause()
      await repo.save(Object.assign(row, { stock: row.stock + 1 }))
    },
    async close() {
      await dataSource.destroy()
    },
  }
}
