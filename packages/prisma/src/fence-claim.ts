import { LockError, LockLostError, type Lock } from '@cachelock/core'
import { fenceValue, isPrismaError } from './fenced-writes.js'
import { runInternal } from './lock-scope.js'
import type { ModelInfo } from './model-info.js'
import type { RecordTarget } from './record-target.js'

type Row = Record<string, unknown>

/** The model delegate calls a claim makes (through the scope's client: `tx`, or the client itself). */
export interface ClaimDelegate {
  update(args: object): Promise<Row>
}

// A claim that matched nothing, yet found the row claimable when it looked: the row was created
// (or its fence lowered by hand) between the two statements. Claim again, a few times at most.
const CLAIM_ATTEMPTS = 3

/**
 * The first statement of a `withLock` on a model with a fence column: raise the row's fence to this
 * holder's token and read the row, in one statement. Prisma 7 sends it as one round trip:
 *
 *   UPDATE "Order" SET "lockFence" = $token WHERE ("Order"."id" = $id AND "Order"."lockFence" <= $token) RETURNING ...
 *
 * Why first, before `fn` reads anything: the fence rule on writes (`fence <= token`) turns a stale
 * holder away only once a newer holder has raised the fence. Raising it here, before this holder
 * reads, means that from the moment of this read no stale holder's write can land, and every write
 * that landed before it is in what `fn` reads: a read-modify-write cannot lose an update to a
 * holder that lost its lock, in whatever order the two interleave. In a transaction the claim's
 * row lock also makes a stale holder still inside its transaction finish (commit or roll back)
 * before this read.
 *
 * `<=` rather than `<`: a fence equal to the token is this same grant's (a nested `withLock` on the
 * row), and the statement still returns the row, so no second read is ever needed.
 *
 * Resolves with the row, or `undefined` when it matched nothing because the row does not exist
 * (`readMissing` then decides: `null` for `missing: 'allow'`, or it throws the not-found error).
 * A fence already past the token means a newer holder has claimed the row: this holder is stale,
 * and the claim rejects with `LockLostError` before `fn` runs.
 */
export async function claimRow(
  delegate: ClaimDelegate,
  model: ModelInfo,
  target: RecordTarget,
  lock: Lock,
  readMissing: () => Promise<Row | null>,
): Promise<Row | null> {
  const fence = model.fence!
  const token = fenceValue(model, fence, lock)
  const where = { ...target.where, [fence.name]: { lte: token } }
  for (let attempt = 1; ; attempt++) {
    try {
      return await runInternal(() => delegate.update({ where, data: { [fence.name]: token } }))
    } catch (error) {
      if (!isPrismaError(error, 'P2025')) throw error
    }
    // Matched nothing: the row is missing, or its fence is past the token. One read tells which.
    const row = await runInternal(readMissing)
    if (row === null) return null
    const current = row[fence.name]
    if (current === null || current === undefined) {
      throw new LockError(
        `${model.name}.${fence.name} is NULL in the row locked by ${JSON.stringify(lock.name)}: a fence column must be ` +
          'NOT NULL DEFAULT 0, since a NULL fence admits no token',
      )
    }
    if (BigInt(current as number | bigint) > BigInt(token)) throw await overtaken(model, lock, current as number | bigint)
    if (attempt === CLAIM_ATTEMPTS) {
      throw new LockError(`Could not claim the ${model.name} row locked by ${JSON.stringify(lock.name)}: it kept changing under the claim`)
    }
  }
}

/**
 * The row's fence is past this holder's token. Fencing tokens only grow, so a newer grant of the
 * lock has claimed the row: this holder lost its lock, whether it has heard yet or not (a steal in
 * another process is heard at the next renewal). The store says how it was lost.
 */
async function overtaken(model: ModelInfo, lock: Lock, fence: number | bigint): Promise<Error> {
  const detail = `${model.name}.${model.fence!.name} is ${fence}, past this holder's fencing token ${lock.fencingToken}`
  try {
    await lock.ensureHeld()
  } catch (lost) {
    if (!(lost instanceof LockLostError)) return lost as Error
    return new LockLostError(lock.name, lost.reason, {
      cause: lost,
      message: `withLock did not call fn: lock ${JSON.stringify(lock.name)} was lost (${lost.reason}) and a newer holder has claimed the row (${detail})`,
    })
  }
  // Held, yet overtaken: the column was raised by something other than a newer grant of this lock.
  return new LockError(
    `withLock did not call fn: ${detail}, although lock ${JSON.stringify(lock.name)} is held. The column was written by ` +
      'something other than a newer holder of this lock (another lock store or prefix, another lock name for the same row, ' +
      'or by hand); fenced writes would all be refused. Lock each row by one name on one store, and leave the column to the adapter.',
  )
}
