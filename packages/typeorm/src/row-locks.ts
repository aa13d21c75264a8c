import { InvalidLockArgumentError, type Lock, type LockManager } from '@cachelock/core'
import { EarlyTransaction, invalidShape, heldRecordLocks, withRecordLocks, type HeldRecordLock } from '@cachelock/core/adapter-kit'
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm'
import { claimFence } from './fence.js'
import { fencedManager, type FenceClaim } from './fenced-manager.js'
import { installationOf, locksOf } from './install.js'
import { LostTransaction } from './lost-transaction.js'
import { lockName, lockWhere, modelLockOf } from './row-key.js'
import { checkFn, checkWithLockOptions } from './options.js'
import { withTransactionRowLocks } from './transaction-row-locks.js'

/** One call of `withLock` (repository) or `withModelLock`, after the caller named the rows. */
export interface RowLockCall {
  /** The manager the call came through (the repository's). */
  manager: EntityManager
  target: EntityTarget<ObjectLiteral>
  /** Rows as the caller gave them (wheres or values), in the caller's order. */
  inputs: readonly unknown[]
  /** `fn` gets arrays (rows, locks) rather than one of each. */
  many: boolean
  fn: unknown
  options: unknown
  /** The argument name for messages about `inputs`. */
  argument: string
  /** Options the caller accepts beyond `WithLockOptions` (checked and removed by it). */
  extraOptions?: readonly string[]
}

/**
 * What `withLock` attaches to the record locks it takes, so that a nested call on a row this flow
 * already holds (or any other row, while the outer transaction runs) joins the outer transaction
 * instead of opening a second one beside it.
 */
interface LockScope {
  readonly owner: typeof contextOwner
  readonly dataSource: DataSource
  manager: EntityManager | undefined
  /** The transaction of the outermost call, shared by the calls that join it: any of their locks lost ends it. */
  readonly transaction: LostTransaction
}

const contextOwner = Symbol.for('cachelock.typeorm.withLock')

/**
 * Lock the rows, read them fresh, run `fn` in a transaction, confirm the locks are still held
 * before the commit, release after it:
 *
 * 1. The locks are taken in sorted order (no deadlock between two multi-row calls), reentrantly
 *    for this flow, before any transaction starts (no connection is held while waiting).
 * 2. Fenced rows are claimed first in the transaction, so a stale holder still in its transaction
 *    blocks us in the database until it is done, and its writes are visible to our read.
 * 3. Rows are read in that transaction; a missing one rejects (TypeORM's `EntityNotFoundError`)
 *    unless `missing: 'allow'`.
 * 4. After `fn`, every lock is confirmed with the store (`ensureHeld`): a lost one throws
 *    `LockLostError` inside the transaction, which rolls it back.
 *
 * A lock lost while the transaction runs (its `signal` aborts) rolls it back at once, without
 * waiting for `fn` (see `LostTransaction`).
 */
export async function withRowLocks(call: RowLockCall): Promise<unknown> {
  const fn = checkFn<(rows: unknown, manager: EntityManager, locks: unknown) => unknown>(call.fn)
  const options = checkWithLockOptions(call.options, call.extraOptions)
  if (call.many && call.inputs.length === 0) throw invalidShape(call.argument, 'a non-empty array of rows', 'an empty array')
  const dataSource = call.manager.connection
  const model = modelLockOf(dataSource.getMetadata(call.target))
  const installation = installationOf(dataSource)
  if (model.fence && !installation) {
    throw new InvalidLockArgumentError(
      'dataSource',
      `${model.entity} has a fence column: call installModelLocks(dataSource) so its entity writes are fenced`,
    )
  }
  const wheres = call.inputs.map((input, i) => lockWhere(model, input, call.many ? `${call.argument}[${i}]` : call.argument))
  const names = wheres.map((where, i) => lockName(model, where, call.many ? `${call.argument}[${i}]` : call.argument))
  if (installation?.lockIn === 'transaction')
    return withTransactionRowLocks({ manager: call.manager, target: call.target, model, wheres, names, many: call.many, fn, options })
  const locks = locksOf(dataSource)
  const strictLockOrder = options.strictLockOrder ?? installation?.strictLockOrder ?? false
  // Inside another withLock's open transaction, this call's writes join that transaction and
  // become visible only when it commits: the new locks join its block and are held until then.
  const runner = call.manager.queryRunner
  const outer = outerLock(locks, dataSource, runner)
  const transaction = (outer?.context as LockScope | undefined)?.transaction ?? new LostTransaction()
  const context: LockScope = { owner: contextOwner, dataSource, manager: undefined, transaction }
  if (runner?.isTransactionActive && !outer) {
    // A transaction the caller started commits after this call returns: locks released here would
    // let another holder read the rows' old values and overwrite these writes.
    throw new InvalidLockArgumentError(
      'repository',
      "withLock cannot run on a repository bound to a transaction you started (it would release its locks before your commit); use repository.lock(where, { until: 'transaction' }) there",
      'LOCK_NOT_SUPPORTED',
    )
  }
  // A call that starts its own transaction begins it beside the lock requests when they are likely
  // granted at once (core's `early`): BEGIN and the acquire overlap; it is rolled back the moment a
  // lock has to wait, so no connection is held while waiting.
  const fresh = options.transaction && !outer && !call.manager.queryRunner
  const early = fresh ? new EarlyTransaction<EntityManager>((callback) => call.manager.transaction(callback)) : undefined
  const recordOptions = { ...options.lockOptions, strictLockOrder, ...(outer ? { join: outer } : {}), ...(early ? { early } : {}) }
  return withRecordLocks(locks, names, recordOptions, context, body)

  async function body(held: Lock[]): Promise<unknown> {
    for (const lock of held) transaction.watch(lock)
    const sorted = [...new Set(names)].sort()
    const lockOf = (name: string) => held[sorted.indexOf(name)]!
    const base = outerManager(call.manager, locks, dataSource)
    const run = async (manager: EntityManager) => {
      context.manager = manager
      const claims: FenceClaim[] = model.fence
        ? sorted.map((name) => ({ model, where: wheres[names.indexOf(name)]!, lock: lockOf(name) }))
        : []
      for (const claim of claims) await claimFence(manager, claim.model, claim.where, claim.lock)
      const rows: unknown[] = []
      for (const where of wheres) {
        rows.push(
          options.missing === 'allow' ? await manager.findOne(call.target, { where }) : await manager.findOneOrFail(call.target, { where }),
        )
      }
      const given = fencedManager(manager, claims)
      const result = call.many ? await fn(rows, given, names.map(lockOf)) : await fn(rows[0], given, lockOf(names[0]!))
      // Just before the commit: a lock lost while fn ran (expiry during a stall, steal, store gone)
      // throws here, inside the transaction, so nothing fn wrote is committed. The outermost call
      // checks the locks nested calls joined to its transaction too.
      for (const lock of outer ? held : transaction.locks) await lock.ensureHeld()
      return result
    }
    if (!options.transaction) return run(base)
    try {
      const inTransaction = (manager: EntityManager) => transaction.run(manager.queryRunner!, () => run(manager))
      return await (early?.run(inTransaction) ?? base.transaction(inTransaction))
    } finally {
      if (!outer) transaction.end()
    }
  }
}

/**
 * The innermost record lock of this flow whose `withLock` transaction on `dataSource` is still
 * open (and, when the caller's manager is bound to a query runner, runs on that one).
 */
function outerLock(locks: LockManager, dataSource: DataSource, bound: QueryRunner | undefined): HeldRecordLock | undefined {
  return heldRecordLocks(locks)
    .filter((held) => {
      const context = held.context as Partial<LockScope> | null
      const runner = context?.owner === contextOwner && context.dataSource === dataSource ? context.manager?.queryRunner : undefined
      return runner !== undefined && !runner.isReleased && runner.isTransactionActive && (bound === undefined || bound === runner)
    })
    .at(-1)
}

/**
 * The manager to run in: the caller's if it is bound to a query runner (`m.withRepository(repo)`),
 * else the transaction of the innermost `withLock` of this flow on the same data source, if one is
 * still open, else the caller's (a fresh transaction then).
 */
function outerManager(manager: EntityManager, locks: LockManager, dataSource: DataSource): EntityManager {
  if (manager.queryRunner) return manager
  const context = outerLock(locks, dataSource, undefined)?.context as LockScope | undefined
  return context?.manager ?? manager
}
