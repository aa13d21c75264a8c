import { InvalidLockArgumentError, invalidArgument, withRecordLocks, type Lock } from '@cachelock/core'
import type { ModelCall } from './extension-state.js'
import { joinScope } from './join-scope.js'
import { LockScope, joinableScope, runInScope } from './lock-scope.js'
import { resolveWithLockOptions, type ResolvedWithLockOptions, type TransactionOptions, type WithLockOptions } from './options.js'
import { prepare, type LockRequest } from './records.js'
import { resolveTarget } from './record-target.js'

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
 * Inside another `withLock` of the same client, the call joins that transaction instead (see
 * `joinScope`).
 */
export async function withLock(call: ModelCall, where: unknown, fn: unknown, options: unknown): Promise<unknown> {
  const { state, model } = call
  const many = Array.isArray(where)
  if (many && where.length === 0) throw invalidArgument('where', 'a record, or a non-empty array of records', where)
  const targets = many ? where.map((item, i) => resolveTarget(model, item, `where[${i}]`)) : [resolveTarget(model, where, 'where')]
  if (typeof fn !== 'function') throw invalidArgument('fn', 'a function', fn)
  const resolved = resolveWithLockOptions(options as WithLockOptions | undefined, state.options)
  const request: LockRequest = { model, targets, many, fn: fn as LockRequest['fn'], missing: resolved.missing }

  const scope = joinableScope(state)
  if (scope) return joinScope(scope, request, resolved)
  if (call.onTransaction) throw onTransactionClient(model.property)
  const names = [...new Set(targets.map((target) => target.name))].sort()
  const manager = state.options.manager()
  const recordScope = new LockScope(state, manager, resolved.transaction !== false)
  const lockOptions = { ...resolved.lockOptions, strictLockOrder: resolved.strictLockOrder }
  return withRecordLocks(manager, names, lockOptions, recordScope, async (locks) => {
    // withRecordLocks hands the locks over in the order of the sorted names.
    const byName = new Map(names.map((name, i) => [name, locks[i]!]))
    for (const [name, lock] of byName) recordScope.locks.set(name, Promise.resolve(lock))
    return run(recordScope, request, resolved, (name) => byName.get(name)!)
  })
}

/** Steps 3 and 4 for a call that took its own locks; ends the scope after the commit or rollback. */
async function run(
  scope: LockScope,
  request: LockRequest,
  resolved: ResolvedWithLockOptions,
  lockOf: (name: string) => Lock,
): Promise<unknown> {
  const body = async (client: unknown) => {
    scope.client = client
    return runInScope(scope, async () => {
      const result = await (await prepare(request, scope, lockOf))()
      await scope.confirm()
      return result
    })
  }
  let result: unknown
  try {
    result =
      resolved.transaction === false
        ? await body(scope.owner.client)
        : await scope.owner.client.$transaction(body, transactionArgs(resolved.transaction))
  } catch (error) {
    // The call's own failure is its outcome; a nested call's release failure would only hide it.
    await scope.end().catch(() => undefined)
    throw error
  }
  await scope.end()
  return result
}

function transactionArgs(options: TransactionOptions): object {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined))
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
