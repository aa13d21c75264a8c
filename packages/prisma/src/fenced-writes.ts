import { LockError, LockLostError, type Lock } from '@cachelock/core'
import type { ExtensionState } from './extension-state.js'
import { liveScopes, runInternal, type LockedRow, type LockScope } from './lock-scope.js'
import type { FieldInfo, ModelInfo } from './model-info.js'
import { pinnedValues, targetsRow } from './row-match.js'

type Args = Record<string, unknown>
type Write = (args: Args | undefined) => Promise<unknown>
/** What Prisma hands a query extension's `$allOperations`. */
export interface QueryParams {
  operation: string
  args: Args | undefined
  query: (args: Args | undefined) => Promise<unknown>
}

const uniqueWrites = new Set(['update', 'delete', 'upsert'])
const manyWrites = new Set(['updateMany', 'updateManyAndReturn', 'deleteMany'])
/** The operations the fencing hook is installed on: every other operation of the model costs nothing. */
export const fencedOperations: readonly string[] = ['create', ...uniqueWrites, ...manyWrites]
const MAX_INT = 2_147_483_647

/**
 * The query hook of a model with a fence column. A write to a row that a live `withLock` of this
 * flow holds is made conditional in its own statement: `where … AND fence <= token`, and sets
 * `fence = token`. A newer holder's write has raised the fence past this holder's token, so a
 * holder that lost its lock writes nothing; it then gets `LockLostError` (once the store confirms
 * the lock is gone), and its transaction refuses to commit even if `fn` caught the error.
 *
 * Writes reach here through the extended client or its transaction clients, `tx` and `db` alike.
 * Inside a transaction, a write to the locked row runs in that transaction whichever of the two
 * sent it: the claim (see `claimRow`) holds the row's lock there, so a write sent through `db`, on
 * another connection, would wait for the transaction it is part of until that timed out.
 * Writes through a client without the extension, raw SQL and nested relation writes are not fenced.
 */
export function fenceWrites(state: ExtensionState, model: ModelInfo): (params: QueryParams) => Promise<unknown> {
  const fence = model.fence!
  return async ({ operation, args, query }) => {
    const unique = uniqueWrites.has(operation)
    if (!unique && !manyWrites.has(operation) && operation !== 'create') return query(args)
    const found = findRow(state, model, operation === 'create' ? args?.data : args?.where, unique)
    if (!found) return query(args)
    const { scope, row } = found
    const token = fenceValue(model, fence, row.lock)
    const given = (args?.where ?? {}) as Args
    const where = { ...given, AND: [...asArray(given.AND), { [fence.name]: { lte: token } }] }
    const set = (data: unknown) => ({ ...(data as Args), [fence.name]: token })
    const refuseIfLost = (cause: unknown) => rejectIfLost(scope, row, `${model.name}.${operation}`, fence, token, cause)
    const send: QueryParams['query'] = scope.inTransaction
      ? (sent) => runInternal(() => (scope.client as Record<string, Record<string, Write>>)[model.property]![operation]!(sent))
      : query

    switch (operation) {
      case 'create':
        // A create naming a locked row: one locked before it existed (`missing: 'allow'`). It starts
        // at the token; a stale holder's create meets the newer holder's row as a unique violation.
        return guard(() => send({ ...args, data: set(args?.data) }), 'P2002', refuseIfLost)
      case 'update':
        return guard(() => send({ ...args, where, data: set(args?.data) }), 'P2025', refuseIfLost)
      case 'delete':
        return guard(() => send({ ...args, where }), 'P2025', refuseIfLost)
      case 'upsert':
        return upsert(scope, row, model, args ?? {}, where, set, send, refuseIfLost)
      default: {
        const data = operation === 'deleteMany' ? {} : { data: set(args?.data) }
        const result = await send({ ...args, where, ...data })
        const count = Array.isArray(result) ? result.length : (result as { count?: number }).count
        if (count === 0) await refuseIfLost(undefined)
        return result
      }
    }
  }
}

/**
 * Prisma runs an upsert with extra conditions as "find, then update or create": a fenced find that
 * finds nothing would create a second row. A row that existed when it was locked is therefore
 * updated, fenced, in one statement (through the scope's client, past this hook); a row locked
 * before it existed is upserted, and a stale holder meets the newer holder's row as a unique
 * violation.
 */
async function upsert(
  scope: LockScope,
  row: LockedRow,
  model: ModelInfo,
  args: Args,
  where: Args,
  set: (data: unknown) => Args,
  query: QueryParams['query'],
  refuseIfLost: (cause: unknown) => Promise<void>,
): Promise<unknown> {
  const upsertArgs = { ...args, where, update: set(args.update), create: set(args.create) }
  if (row.record === null) return guard(() => query(upsertArgs), 'P2002', refuseIfLost)
  const { update: _update, create: _create, where: _where, ...shape } = args
  const delegate = (scope.client as Record<string, { update(args: Args): Promise<unknown> }>)[model.property]!
  try {
    return await runInternal(() => delegate.update({ ...shape, where, data: set(args.update) }))
  } catch (error) {
    if (!isPrismaError(error, 'P2025')) throw error
    await refuseIfLost(error)
    // Still ours: a writer that does not take the lock deleted the row. Upsert, as asked.
    return query(upsertArgs)
  }
}

async function guard(write: () => Promise<unknown>, code: string, refuseIfLost: (cause: unknown) => Promise<void>): Promise<unknown> {
  try {
    return await write()
  } catch (error) {
    if (isPrismaError(error, code)) await refuseIfLost(error)
    throw error
  }
}

/**
 * A fenced write matched nothing: ask the store whether the lock is still held. Lost: the fence
 * turned a stale holder away, so throw `LockLostError` (and mark the scope so it cannot commit).
 * Held: the database's own answer stands (the row is gone, or a filter did not match).
 */
async function rejectIfLost(
  scope: LockScope,
  row: LockedRow,
  what: string,
  fence: FieldInfo,
  token: unknown,
  cause: unknown,
): Promise<void> {
  try {
    await row.lock.ensureHeld()
    return
  } catch (lost) {
    if (!(lost instanceof LockLostError)) return
    const error = new LockLostError(row.lock.name, lost.reason, {
      cause: cause ?? lost,
      message:
        `${what} wrote nothing: lock ${JSON.stringify(row.lock.name)} was lost (${lost.reason}), and the row's ` +
        `${fence.name} no longer admits fencing token ${String(token)} (a newer holder has written it)` +
        (scope.inTransaction ? '; the transaction rolls back' : ''),
    })
    scope.rejected ??= error
    throw error
  }
}

/**
 * The live locked row this write targets: the newest grant's, and among equal tokens (one lock, in
 * two scopes) the innermost scope's. A withLock nested in one without a transaction reuses the outer
 * call's lock and claims the row in a transaction of its own: a write sent through the client must
 * run in that transaction, or it waits for the row lock the transaction holds until it times out.
 */
function findRow(
  state: ExtensionState,
  model: ModelInfo,
  conditions: unknown,
  unique: boolean,
): { scope: LockScope; row: LockedRow } | undefined {
  const pinned = pinnedValues(model, conditions)
  let found: { scope: LockScope; row: LockedRow } | undefined
  for (const scope of liveScopes(state)) {
    for (const row of scope.rows) {
      if (row.model !== model || !targetsRow(model, row, pinned, unique)) continue
      if (!found || row.lock.fencingToken >= found.row.lock.fencingToken) found = { scope, row }
    }
  }
  return found
}

export function fenceValue(model: ModelInfo, fence: FieldInfo, lock: Lock): number | bigint {
  const token = lock.fencingToken
  if (fence.type === 'BigInt') return BigInt(token)
  if (token > MAX_INT) {
    throw new LockError(
      `Fencing token ${token} of lock ${JSON.stringify(lock.name)} does not fit ${model.name}.${fence.name}, an Int (32 bits): ` +
        'declare the fence column BigInt (memcached tokens, seeded from the clock, need 64 bits)',
    )
  }
  return token
}

function asArray(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value]
}

export function isPrismaError(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code
}
