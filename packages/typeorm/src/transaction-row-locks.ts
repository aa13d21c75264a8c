import { InvalidLockArgumentError, LockNotAcquiredError, type Lock } from '@cachelock/core'
import {
  ScopedStorage,
  transactionLock,
  transactionLockFailure,
  transactionLockQuery,
  transactionLockRequest,
  transactionLockStatement,
  type TransactionLockRequest,
} from '@cachelock/core/adapter-kit'
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm'
import { fencedManager, type FenceClaim } from './fenced-manager.js'
import type { ModelLock } from './row-key.js'
import type { CheckedWithLockOptions } from './options.js'

/** A `withLock` call after validation, for `lockIn: 'transaction'`. */
export interface TransactionRowLockCall {
  manager: EntityManager
  target: EntityTarget<ObjectLiteral>
  model: ModelLock
  wheres: readonly ObjectLiteral[]
  names: readonly string[]
  many: boolean
  fn: (rows: unknown, manager: EntityManager, locks: unknown) => unknown
  options: CheckedWithLockOptions
}

/** The locks each query runner's transaction holds itself: the guard's "ours", the fence's token. */
const held = new WeakMap<QueryRunner, Map<string, { lock: Lock; end(): void }>>()
/** The `withLock` transactions this flow runs in: a nested call on a repository of the data source joins the innermost. */
const enclosing = new ScopedStorage<readonly { dataSource: DataSource; manager: EntityManager }[]>()

/**
 * `withLock` with `installModelLocks(dataSource, { lockIn: 'transaction' })` (PostgreSQL): the row
 * locks are advisory locks of the transaction `fn` runs in (see core's `transactionLockStatement`),
 * taken in sorted order on its connection and released by its COMMIT or ROLLBACK.
 *
 * The transaction is the repository's when it is bound to one (`m.withRepository(repo)`: the
 * locks then last until that transaction ends, as they must), else the enclosing `withLock`'s of
 * this flow, else a new one. A fenced row is claimed by raising its fence by one (the new value is
 * the lock's fencing token). Nothing is asked of a lock store: the lock cannot be lost while the
 * transaction lives, so there is no check before commit.
 */
export async function withTransactionRowLocks(call: TransactionRowLockCall): Promise<unknown> {
  const request = transactionLockRequest(call.options.lockOptions)
  if (!call.options.transaction) {
    throw new InvalidLockArgumentError(
      'options.transaction',
      "withLock cannot run without a transaction with lockIn: 'transaction': the transaction is what holds the lock",
      'LOCK_NOT_SUPPORTED',
    )
  }
  const dataSource = call.manager.connection
  const bound = call.manager.queryRunner?.isTransactionActive ? call.manager : undefined
  const outer = enclosing
    .getStore()
    ?.findLast((frame) => frame.dataSource === dataSource && frame.manager.queryRunner?.isTransactionActive)?.manager
  const joined = bound ?? outer
  if (joined) return lockAndRun(call, joined, request)
  let runner: QueryRunner | undefined
  try {
    return await call.manager.transaction((manager) => {
      runner = manager.queryRunner
      return lockAndRun(call, manager, request)
    })
  } finally {
    if (runner) endTransactionLocks(runner)
  }
}

/** The lock on `name` the transaction of `queryRunner` holds itself, if any. */
export function transactionHeldLock(queryRunner: QueryRunner | undefined, name: string): Lock | undefined {
  return queryRunner ? held.get(queryRunner)?.get(name)?.lock : undefined
}

/** The transaction of `queryRunner` has ended: its locks are gone with it. */
export function endTransactionLocks(queryRunner: QueryRunner): void {
  const locks = held.get(queryRunner)
  if (!locks) return
  held.delete(queryRunner)
  for (const entry of locks.values()) entry.end()
}

/** For the guard: which of `names` another transaction holds right now (PostgreSQL's `pg_locks`). */
export async function lockedByOthers(manager: EntityManager, names: readonly string[]): Promise<boolean[]> {
  const results: boolean[] = []
  for (const name of names) {
    const { text, values } = transactionLockQuery(name, { others: true })
    const rows = await manager.query<{ locked: boolean }[]>(text, values)
    results.push(rows[0]?.locked === true)
  }
  return results
}

/** `repo.isLocked(where)`: whether any transaction holds the row's lock right now. */
export async function isLockedInTransaction(manager: EntityManager, name: string): Promise<boolean> {
  const { text, values } = transactionLockQuery(name)
  const rows = await manager.query<{ locked: boolean }[]>(text, values)
  return rows[0]?.locked === true
}

async function lockAndRun(call: TransactionRowLockCall, manager: EntityManager, request: TransactionLockRequest): Promise<unknown> {
  const { model, wheres, names } = call
  const runner = manager.queryRunner!
  let mine = held.get(runner)
  if (!mine) held.set(runner, (mine = new Map<string, { lock: Lock; end(): void }>()))
  const sorted = [...new Set(names)].sort()
  for (const name of sorted) if (!mine.has(name)) await take(manager, name, request)
  // The lock has no ttl (the transaction holds it); `lock.ttl` reports the call's, or core's default.
  const ttl = call.options.lockOptions.ttl ?? 30_000
  for (const name of sorted) {
    if (mine.has(name)) continue
    const token = model.fence ? await claim(manager, model, wheres[names.indexOf(name)]!) : 0
    mine.set(name, transactionLock(name, request.mode, token, ttl))
  }
  const lockOf = (name: string) => mine.get(name)!.lock
  const claims: FenceClaim[] = model.fence ? sorted.map((name) => ({ model, where: wheres[names.indexOf(name)]!, lock: lockOf(name) })) : []
  const rows: unknown[] = []
  for (const where of wheres) {
    rows.push(
      call.options.missing === 'allow'
        ? await manager.findOne(call.target, { where })
        : await manager.findOneOrFail(call.target, { where }),
    )
  }
  const given = fencedManager(manager, claims)
  const frames = [...(enclosing.getStore() ?? []), { dataSource: manager.connection, manager }]
  return enclosing.run(frames, () => (call.many ? call.fn(rows, given, names.map(lockOf)) : call.fn(rows[0], given, lockOf(names[0]!))))
}

async function take(manager: EntityManager, name: string, request: TransactionLockRequest): Promise<void> {
  const { text, values } = transactionLockStatement(name, request)
  let rows: { locked: boolean }[]
  try {
    rows = await manager.query<{ locked: boolean }[]>(text, values)
  } catch (error) {
    throw transactionLockFailure(name, error)
  }
  if (rows[0]?.locked !== true) throw new LockNotAcquiredError(name)
}

/**
 * Raise the row's fence by one in the transaction that holds its lock; the new value is the
 * grant's fencing token (0 when there is no row yet: a row created under the lock starts there).
 */
async function claim(manager: EntityManager, model: ModelLock, where: ObjectLiteral): Promise<number> {
  const fence = model.fence!
  const column = manager.connection.driver.escape(fence.databaseName)
  const result = await manager
    .createQueryBuilder()
    .update(model.metadata.target)
    .set({ [fence.propertyName]: () => `COALESCE(${column}, 0) + 1` })
    .where(where)
    .returning(column)
    .callListeners(false)
    .updateEntity(false)
    .execute()
  const row = (result.raw as Record<string, unknown>[])[0]
  return row === undefined ? 0 : Number(row[fence.databaseName])
}
