import type { Lock } from '@cachelock/core'
import { claimRow } from './fence-claim.js'
import type { LockScope } from './lock-scope.js'
import type { ModelInfo } from './model-info.js'
import type { RecordTarget } from './record-target.js'

/** One validated `withLock` call. */
export interface LockRequest {
  readonly model: ModelInfo
  /** In the caller's order, possibly repeating a record. */
  readonly targets: readonly RecordTarget[]
  /** The caller passed an array: `fn` gets arrays. */
  readonly many: boolean
  readonly fn: (records: unknown, context: unknown) => unknown
  readonly missing: 'reject' | 'allow'
}

export type Delegate = {
  findUnique(args: object): Promise<Record<string, unknown> | null>
  findUniqueOrThrow(args: object): Promise<Record<string, unknown>>
  update(args: object): Promise<Record<string, unknown>>
}

/**
 * Read the records fresh through the scope's client (inside its transaction, so `fn` sees what the
 * last holder committed and what an enclosing call wrote), register the rows for fencing and the
 * pre-commit check, and return the call of `fn`. A missing record rejects here, before `fn`.
 *
 * On a model with a fence column the read is the claim (see `claimRow`): one statement that raises
 * the row's fence to the lock's token and returns the row. Rows are claimed in the order of their
 * lock names, as the locks were taken, so two claims never wait on each other's rows crosswise.
 */
export async function prepare(request: LockRequest, scope: LockScope, lockOf: (name: string) => Lock): Promise<() => Promise<unknown>> {
  const { model, targets } = request
  const delegate = (scope.client as Record<string, Delegate>)[model.property]!
  const records = new Map<string, Record<string, unknown> | null>()
  for (const target of targets.length === 1 ? targets : distinctTargets(targets)) {
    const readRow = () => read(delegate, model, target, request.missing)
    const lock = lockOf(target.name)
    const record = model.fence ? await claimRow(delegate, model, target, lock, readRow) : await readRow()
    records.set(target.name, record)
    scope.rows.push({ model, lock, values: target.values, record })
  }
  return callOf(request, scope, records, lockOf)
}

/** The call of `fn` with the records read and their locks, in the order the caller gave them. */
export function callOf(
  request: LockRequest,
  scope: LockScope,
  records: ReadonlyMap<string, Record<string, unknown> | null>,
  lockOf: (name: string) => Lock,
): () => Promise<unknown> {
  const { targets } = request
  const list = targets.map((target) => records.get(target.name) ?? null)
  const locks = targets.map((target) => lockOf(target.name))
  const context = request.many ? { tx: scope.client, locks } : { tx: scope.client, lock: locks[0]! }
  return async () => await request.fn(request.many ? list : list[0], context)
}

/** The distinct targets of a request, in the order of their lock names (the order they are locked and claimed in). */
export function distinctTargets(targets: readonly RecordTarget[]): RecordTarget[] {
  return [...new Map(targets.map((target) => [target.name, target])).values()].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  )
}

export async function read(
  delegate: Delegate,
  model: ModelInfo,
  target: RecordTarget,
  missing: 'reject' | 'allow',
): Promise<Record<string, unknown> | null> {
  if (missing === 'allow') return delegate.findUnique({ where: target.where })
  try {
    return await delegate.findUniqueOrThrow({ where: target.where })
  } catch (error) {
    throw notFound(error, model, target)
  }
}

interface KnownRequestError extends Error {
  code: string
  clientVersion: string
  meta?: Record<string, unknown>
}

/**
 * Prisma's own not-found error (`PrismaClientKnownRequestError`, code `P2025`, as
 * `findUniqueOrThrow` rejects), so an app's existing "P2025 → 404" handling keeps working, with
 * a message that says what `withLock` did. Made from the error Prisma threw, so it is an instance
 * of the app's Prisma runtime's class.
 */
function notFound(error: unknown, model: ModelInfo, target: RecordTarget): unknown {
  const known = error as Partial<KnownRequestError> | null
  if (known?.code !== 'P2025' || typeof known.clientVersion !== 'string') return error
  const message =
    `No ${model.name} record found where ${describeWhere(target.where)}: withLock did not call fn. ` +
    `Pass { missing: 'allow' } to lock a row that does not exist yet.`
  try {
    const Known = known.constructor as new (message: string, params: Omit<KnownRequestError, keyof Error>) => Error
    const wrapped = new Known(message, {
      code: 'P2025',
      clientVersion: known.clientVersion,
      meta: { ...known.meta, modelName: model.name, lockName: target.name },
    })
    wrapped.cause = error
    return wrapped
  } catch {
    return error
  }
}

function describeWhere(where: Readonly<Record<string, unknown>>): string {
  // The holder's own value, not `value`: JSON.stringify hands the replacer what toJSON made of it,
  // and a Buffer's toJSON makes `{ type: 'Buffer', data: [...] }`.
  return JSON.stringify(where, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key]
    return typeof raw === 'bigint' ? `${raw}n` : raw instanceof Uint8Array ? `0x${Buffer.from(raw).toString('hex')}` : value
  })
}
