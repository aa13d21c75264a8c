import { InvalidLockArgumentError, LockNotAcquiredError, type Lock } from '@cachelock/core'
import {
  transactionLock,
  transactionLockFailure,
  transactionLockQuery,
  transactionLockRequest,
  transactionLockStatement,
  type TransactionLockRequest,
} from '@cachelock/core/adapter-kit'
import type { ExtensionState, ModelCall } from './extension-state.js'
import { isPrismaError } from './fenced-writes.js'
import { LockScope, liveScopes, runInScope, runInternal } from './lock-scope.js'
import { DEFAULT_TRANSACTION_TIMEOUT, type ResolvedWithLockOptions, type TransactionOptions } from './options.js'
import { callOf, distinctTargets, read, type Delegate, type LockRequest } from './records.js'
import type { RecordTarget } from './record-target.js'

type RawClient = { $queryRawUnsafe(query: string, ...values: unknown[]): Promise<{ locked: boolean }[]> }

/**
 * `withLock` with `lockIn: 'transaction'`: the record locks are held by `withLock`'s transaction.
 *
 * 1. BEGIN (Prisma), then one statement per record, in sorted order (see `transactionLockStatement`):
 *    `pg_advisory_xact_lock`, waiting on the server, on the connection the transaction already has;
 * 2. read each record (on a model with a fence column, claim it: one `UPDATE … SET fence = fence + 1
 *    … RETURNING`, whose new value is the lock's fencing token);
 * 3. `fn`; a fenced write that was refused still refuses the commit; COMMIT releases the locks.
 *
 * Nothing is asked of a lock store: the lock cannot be lost while the transaction lives (a dead
 * connection ends both), so there is no ownership check before commit and no renewal. A call nested
 * in `fn` joins the transaction: a record it already holds is read again, not locked again.
 */
export async function withTransactionLocks(
  call: ModelCall,
  request: LockRequest,
  resolved: ResolvedWithLockOptions,
  onTransactionClient: () => Error,
): Promise<unknown> {
  const { state } = call
  const lockRequest = transactionLockRequest(resolved.lockOptions)
  const transaction = resolved.transaction
  if (transaction === false) {
    throw new InvalidLockArgumentError(
      'options.transaction',
      "withLock cannot run without a transaction with lockIn: 'transaction': the transaction is what holds the lock",
      'LOCK_NOT_SUPPORTED',
    )
  }
  const enclosing = liveScopes(state).findLast((scope) => scope.inTransaction)
  if (enclosing) return (await lockAndRead(enclosing, request, lockRequest, ttlOf(transaction)))()
  if (call.onTransaction) throw onTransactionClient()
  const scope = new LockScope(state, true)
  try {
    // On the client without the refusing hook: a transaction's own lock is never lost, so there is
    // nothing to refuse, and the hook would cost every query of fn.
    return await state.client.$transaction((tx) => {
      scope.client = tx
      return runInScope(scope, async () => {
        const result = await (await lockAndRead(scope, request, lockRequest, ttlOf(transaction)))()
        await scope.confirm()
        return result
      })
    }, transactionArgs(transaction))
  } finally {
    scope.end()
  }
}

/** `db.model.isLocked(where)` with `lockIn: 'transaction'`: whether any transaction holds the record's lock now. */
export async function isLockedInTransaction(state: ExtensionState, name: string): Promise<boolean> {
  const { text, values } = transactionLockQuery(name)
  const rows = await (state.client as unknown as RawClient).$queryRawUnsafe(text, ...values)
  return rows[0]?.locked === true
}

/** `db.model.lock(where)` has no transaction to hold the lock in. */
export function noHandleInTransactionMode(): InvalidLockArgumentError {
  return new InvalidLockArgumentError(
    'options.lockIn',
    "lock() returns a handle held until you release it, and a lock held by a transaction (lockIn: 'transaction') has none: use withLock",
    'LOCK_NOT_SUPPORTED',
  )
}

/** Steps 1 and 2 in `scope`'s transaction; returns the call of `fn`. */
async function lockAndRead(
  scope: LockScope,
  request: LockRequest,
  lockRequest: TransactionLockRequest,
  ttl: number,
): Promise<() => Promise<unknown>> {
  const { model } = request
  const tx = scope.client as RawClient & Record<string, Delegate>
  const delegate = tx[model.property]!
  const held = new Map(scope.rows.map((row) => [row.lock.name, row.lock]))
  const locks = new Map<string, Lock>()
  const records = new Map<string, Record<string, unknown> | null>()
  const targets = distinctTargets(request.targets)
  for (const target of targets) if (!held.has(target.name)) await takeLock(tx, target.name, lockRequest)
  for (const target of targets) {
    const readRow = () => read(delegate, model, target, request.missing)
    let lock = held.get(target.name)
    let record: Record<string, unknown> | null
    if (lock) record = await readRow()
    else {
      let token = 0
      if (model.fence) ({ record, token } = await claim(delegate, request, target, readRow))
      else record = await readRow()
      const taken = transactionLock(target.name, lockRequest.mode, token, ttl)
      scope.atEnd(() => taken.end())
      lock = taken.lock
    }
    locks.set(target.name, lock)
    records.set(target.name, record)
    scope.rows.push({ model, lock, values: target.values, record })
  }
  return callOf(request, scope, records, (name) => locks.get(name)!)
}

async function takeLock(tx: RawClient, name: string, request: TransactionLockRequest): Promise<void> {
  const { text, values } = transactionLockStatement(name, request)
  let rows: { locked: boolean }[]
  try {
    rows = await tx.$queryRawUnsafe(text, ...values)
  } catch (error) {
    throw transactionLockFailure(name, error)
  }
  if (rows[0]?.locked !== true) throw new LockNotAcquiredError(name)
}

/**
 * The claim of a fenced row, in the transaction that holds its lock: raise the fence by one and
 * read the row, in one statement. The new value is the grant's fencing token: it is greater than
 * every token the row was claimed with before, by this mode or by a store's lock with a smaller token.
 */
async function claim(
  delegate: Delegate,
  request: LockRequest,
  target: RecordTarget,
  readRow: () => Promise<Record<string, unknown> | null>,
): Promise<{ record: Record<string, unknown> | null; token: number }> {
  const fence = request.model.fence!.name
  try {
    const record = await runInternal(() => delegate.update({ where: target.where, data: { [fence]: { increment: 1 } } }))
    return { record, token: Number(record[fence]) }
  } catch (error) {
    if (!isPrismaError(error, 'P2025')) throw error
  }
  // No such row: the lock is on the key it would have (`missing: 'allow'`), and a create starts at 0.
  return { record: await runInternal(readRow), token: 0 }
}

function ttlOf(options: TransactionOptions): number {
  return options.timeout ?? DEFAULT_TRANSACTION_TIMEOUT
}

// A copy: Prisma writes into the options of a transaction it nests. Resolved options hold no
// undefined values, so nothing needs filtering.
function transactionArgs(options: TransactionOptions): object {
  return { ...options }
}
