import type { Extended } from './matrix.js'

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown }

export const settle = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )

export function deferred<T = void>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((done) => (resolve = done))
  return { promise, resolve }
}

type Tx = Pick<Extended, 'order'>

/**
 * Holder A of order `id` (no transaction, no renewal) lets its lock expire; B takes the lock and
 * sets the row's status to 'fresh'; only then does A, still in `fn`, send `write`. No step is
 * timed: A waits for B's withLock to have returned. Returns what A's write and A's withLock gave.
 */
export async function staleWrite<T>(
  db: Pick<Extended, 'order'>,
  id: number,
  write: (tx: Tx) => Promise<T>,
  options: { missing?: 'allow' } = {},
): Promise<{ write: Settled<T>; withLock: Settled<unknown>; tokens: { a: number; b: number } }> {
  const holding = deferred<number>()
  const bDone = deferred()
  let written!: Settled<T>
  const a = settle(
    db.order.withLock(
      id,
      async (_, { tx, lock }) => {
        holding.resolve(lock.fencingToken)
        await bDone.promise
        written = await settle(write(tx))
      },
      { ttl: 100, autoExtend: false, transaction: false, ...options },
    ),
  )
  const tokenA = await holding.promise
  // B waits for A's lock to expire (100 ms), then claims the row: its fence is B's token from then on.
  const tokenB = await db.order.withLock(
    id,
    async (order, { tx, lock }) => {
      await (order ? tx.order.update({ where: { id }, data: { status: 'fresh' } }) : tx.order.create({ data: { id, status: 'fresh' } }))
      return lock.fencingToken
    },
    options,
  )
  bDone.resolve()
  const withLock = await a
  return { write: written, withLock, tokens: { a: tokenA, b: tokenB } }
}
