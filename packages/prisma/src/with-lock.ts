import { InvalidLockArgumentError, type Lock, type LockManager } from '@cachelock/core'
import { EarlyTransaction, heldRecordLocks, invalidArgument, withRecordLocks, type HeldRecordLock } from '@cachelock/core/adapter-kit'
import type { ExtensionState, ModelCall, PrismaClientLike } from './extension-state.js'
import { LockScope, runInScope } from './lock-scope.js'
import { resolveWithLockOptions, type ResolvedWithLockOptions, type WithLockOptions } from './options.js'
import { prepare, type LockRequest } from './records.js'
import { resolveTarget } from './record-target.js'
import { withTransactionLocks } from './transaction-locks.js'

/**
 * `db.model.withLock(where, fn, options)`:
 *
 * 1. validate everything (no lock is taken for bad input);
 * 2. take the record locks (sorted, so two flows locking {1, 2} and {2, 1} cannot deadlock),
 *    before the transaction starts, so no connection is held while waiting;
 * 3. in an interactive transaction: read the records fresh, run `fn`, confirm every lock is still
 *    held (a lost lock throws `LockLostError` here, and the transaction rolls back), commit;
 * 4. release the locks, however it ended.
 *
 * Inside another `withLock`'s transaction (of the same extension) the call joins it instead: `fn`
 * gets the same `tx`, and the locks it takes join the enclosing call's (core's `join`), held until
 * that transaction has committed or rolled back. Its writes are invisible to others until then;
 * releasing earlier would let another holder read the old row and overwrite the change. Records
 * the transaction already holds are not locked again, so nested calls on the same record do not
 * deadlock and branches of a `Promise.all` share the lock. A joined call whose record is missing
 * rejects before `fn`, and its lock stays with the transaction until it ends.
 *
 * With `lockIn: 'transaction'` the locks are the transaction's own instead (see `withTransactionLocks`).
 */
export function withLock(call: ModelCall, where: unknown, fn: unknown, options: unknown): Promise<unknown> {
  // Not an async function (see `start`), yet bad input rejects rather than throws.
  try {
    return start(call, where, fn, options)
  } catch (error) {
    return Promise.reject(error)
  }
}

function start(call: ModelCall, where: unknown, fn: unknown, options: unknown): Promise<unknown> {
  const { state, model } = call
  const many = Array.isArray(where)
  if (many && where.length === 0) throw invalidArgument('where', 'a record, or a non-empty array of records', where)
  const targets = many ? where.map((item, i) => resolveTarget(model, item, `where[${i}]`)) : [resolveTarget(model, where, 'where')]
  if (typeof fn !== 'function') throw invalidArgument('fn', 'a function', fn)
  const resolved = resolveWithLockOptions(options as WithLockOptions | undefined, state.options)
  const request: LockRequest = { model, targets, many, fn: fn as LockRequest['fn'], missing: resolved.missing }

  if (state.options.lockIn === 'transaction')
    return withTransactionLocks(call, request, resolved, () => onTransactionClient(model.property))
  const names = many ? [...new Set(targets.map((target) => target.name))].sort() : [targets[0]!.name]
  const manager = state.options.manager()
  const join = enclosingTransaction(state, manager)
  if (!join && call.onTransaction) throw onTransactionClient(model.property)
  const scope = join?.context ?? new LockScope(state, resolved.transaction !== false)
  // The transaction begins beside the lock requests when they are likely granted at once.
  // A copy: Prisma writes into the options of a transaction it nests.
  const client = scope.owner.scoped
  const early =
    join || resolved.transaction === false
      ? undefined
      : new EarlyTransaction<PrismaClientLike>((callback) => client.$transaction(callback, { ...resolved.transaction }))
  const lockOptions = { ...resolved.lockOptions, strictLockOrder: resolved.strictLockOrder, join, early }
  // The callbacks here are plain functions returning promises, not async ones: with an
  // AsyncLocalStorage in use, Node's promise hooks make every promise and every await cost.
  return withRecordLocks(manager, names, lockOptions, scope, (locks) => {
    // withRecordLocks hands the locks over in the order of the sorted names.
    const lockOf = many ? lookup(names, locks) : () => locks[0]!
    // A joined call's locks are the enclosing transaction's too: their loss must end it.
    for (const lock of locks) scope.watch(lock)
    return join ? prepare(request, scope, lockOf).then((call) => call()) : run(scope, request, resolved, lockOf, early)
  })
}

function lookup(names: readonly string[], locks: readonly Lock[]): (name: string) => Lock {
  const byName = new Map(names.map((name, i) => [name, locks[i]!]))
  return (name) => byName.get(name)!
}

/**
 * A record lock this flow holds for a live transaction of `state`: the block a nested call joins,
 * and (as its context) the scope whose `tx` it uses.
 */
function enclosingTransaction(state: ExtensionState, manager: LockManager): (HeldRecordLock & { context: LockScope }) | undefined {
  return heldRecordLocks(manager).findLast(
    (held): held is HeldRecordLock & { context: LockScope } =>
      held.context instanceof LockScope && held.context.owner === state && held.context.inTransaction && held.context.alive,
  )
}

/** Step 3 for a call that took its own locks; withRecordLocks releases them, and the joined ones, after. */
async function run(
  scope: LockScope,
  request: LockRequest,
  resolved: ResolvedWithLockOptions,
  lockOf: (name: string) => Lock,
  early: EarlyTransaction<PrismaClientLike> | undefined,
): Promise<unknown> {
  // fn's work while it runs. A lost lock ends the transaction without waiting for it (see `untilLost`).
  let running: Promise<unknown> | undefined
  const body = (client: unknown) => {
    scope.client = client
    const work = runInScope(scope, async () => {
      try {
        const result = await (await prepare(request, scope, lockOf))()
        await scope.confirm()
        return result
      } finally {
        // After the first await, so always after `running = work` below.
        running = undefined
      }
    })
    running = work
    // In a transaction, a lost lock rolls it back at once. Without one there is nothing to undo:
    // the loss is reported after fn, as before.
    return scope.inTransaction ? scope.untilLost(work) : work
  }
  try {
    return resolved.transaction === false
      ? await body(scope.owner.scoped)
      : // Begun beside the lock requests, or now (a copy: Prisma writes into the options of a transaction it nests).
        await (early?.run(body) ?? scope.owner.scoped.$transaction(body, { ...resolved.transaction }))
  } finally {
    // Before the locks are released: work that outlives fn must neither join nor be fenced by it.
    // An fn still running after its lost lock rolled the transaction back stays fenced until it
    // ends: its writes through the client must still meet the newer holder's fence.
    const end = () => scope.end()
    if (running) void running.then(end, end)
    else end()
  }
}

function onTransactionClient(property: string): InvalidLockArgumentError {
  return new InvalidLockArgumentError(
    'this',
    `withLock was called on a transaction client (tx.${property}.withLock). Its lock would be released when withLock returns, ` +
      'before your transaction commits, and another holder could read the row as it was and overwrite this change. ' +
      `Call it on the client (db.${property}.withLock) and do the work in fn with the tx it receives; ` +
      'a withLock nested in another one joins that transaction by itself.',
    'LOCK_NOT_SUPPORTED',
  )
}
