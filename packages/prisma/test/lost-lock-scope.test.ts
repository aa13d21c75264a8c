import { expect, test } from 'vitest'
import { LockLostError, type Lock } from '@cachelock/core'
import { anotherManagers } from './helpers/another-manager.js'
import { until } from './helpers/http.js'
import { extend, onEveryDatabaseAndStore } from './helpers/matrix.js'

function deferred() {
  let resolve!: () => void
  const promise = new Promise<void>((done) => (resolve = done))
  return { promise, resolve }
}

const outcome = (work: Promise<unknown>) =>
  work.then(
    () => 'done',
    (error: unknown) => error,
  )

/**
 * What `fn` sees of a lock another process took: the store tells this one (at the renewal, or when
 * asked), and from then on `fn`'s flow is refused, whichever way it reaches the database.
 */
onEveryDatabaseAndStore('lost_scope', (setup) => {
  const another = anotherManagers()

  test('fn still running after its stolen lock rolled the transaction back stays fenced until it ends: its write through db is refused', async () => {
    const current = setup()
    const { db } = current
    const thief = await another(current)
    const { id } = await db.order.create({ data: {} })
    const wrote = deferred()
    const resume = deferred()
    let late: unknown
    const work = db.order.withLock(
      id,
      async (_, { tx }) => {
        await tx.order.update({ where: { id }, data: { status: 'stale' } })
        wrote.resolve()
        await resume.promise // stuck on a slow call while the lock is stolen
        // The client, not tx: a write to the locked row must still meet the loss, not land.
        late = await outcome(db.order.update({ where: { id }, data: { note: 'late' } }))
      },
      { ttl: 300 },
    )
    work.catch(() => undefined) // awaited below
    await wrote.promise
    const stolen = await thief.acquire(`order:id:${id}`, { steal: true })
    // The renewal finds the steal; the transaction rolls back while fn is still stuck.
    const lost = await outcome(work)
    expect(lost).toBeInstanceOf(LockLostError)
    resume.resolve()
    await until(() => late !== undefined, 'fn to write after the loss')
    expect(late).toBe(lost)
    expect(await db.order.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'new', note: null })
    await stolen.release()
  })

  test('several locks of one withLock lost, together or apart: withLock rejects with the first loss, and fn’s later queries are refused with it', async () => {
    const current = setup()
    const { db } = current
    const thief = await another(current)
    const ids = [(await db.order.create({ data: {} })).id, (await db.order.create({ data: {} })).id]
    const wrote = deferred()
    const resume = deferred()
    let held: Lock[] = []
    const losses: unknown[] = []
    let late: unknown
    const work = db.order.withLock(
      ids,
      async (_, { tx, locks }) => {
        held = locks
        for (const { signal } of locks) signal.addEventListener('abort', () => losses.push(signal.reason))
        await tx.order.update({ where: { id: ids[0]! }, data: { status: 'stale' } })
        wrote.resolve()
        await resume.promise
        late = await outcome(tx.order.findMany())
      },
      { ttl: 300 },
    )
    work.catch(() => undefined) // awaited below
    await wrote.promise
    // Another process takes both. The renewal finds one first, and the rollback follows; the other is
    // found in the same round, or when the rolled-back call releases it.
    const stolen = await Promise.all(held.map((lock) => thief.acquire(lock.name, { steal: true })))
    const lost = await outcome(work)
    expect(lost).toBeInstanceOf(LockLostError)
    await until(() => losses.length === 2, 'both losses to be found')
    // Found together (one renewal round) or apart, the first is the one reported.
    expect(losses[0]).toBe(lost)
    resume.resolve()
    await until(() => late !== undefined, 'fn to query after the losses')
    expect(late).toBe(lost)
    for (const lock of stolen) await lock.release()
  })

  test('a lock lost before withLock starts (a lock() handle stolen inside handle.run): fn is never called', async () => {
    const current = setup()
    const { db } = current
    const thief = await another(current)
    const { id } = await db.order.create({ data: {} })
    const handle = await db.order.lock(id)
    let called = false
    const result = await handle.run(async () => {
      const stolen = await thief.acquire(`order:id:${id}`, { steal: true })
      // This process hears of it now; withLock below reuses the handle (it is this flow's).
      await expect(handle.ensureHeld()).rejects.toBeInstanceOf(LockLostError)
      const error = await outcome(
        db.order.withLock(id, async (_, { tx }) => {
          called = true
          await tx.order.update({ where: { id }, data: { status: 'paid' } })
        }),
      )
      await stolen.release()
      return error
    })
    expect(result).toBeInstanceOf(LockLostError)
    expect(result).toMatchObject({ lockName: `order:id:${id}` })
    expect(called).toBe(false)
    expect((await db.order.findUniqueOrThrow({ where: { id } })).status).toBe('new')
  })

  test('without a transaction, a fenced write refused after a steal is what withLock rejects with, even if fn caught it', async () => {
    const current = setup()
    const { db, prisma } = current
    const thief = extend(prisma, await another(current))
    const { id } = await db.order.create({ data: {} })
    const claimed = deferred()
    const resume = deferred()
    let caught: unknown
    const work = db.order.withLock(
      id,
      async (_, { tx }) => {
        claimed.resolve()
        await resume.promise
        try {
          await tx.order.update({ where: { id }, data: { note: 'stale holder' } })
        } catch (error) {
          caught = error // swallowed: withLock must still report it
        }
        return 'fn returned'
      },
      { transaction: false },
    )
    work.catch(() => undefined) // awaited below
    await claimed.promise
    // Another process steals the lock and writes the row: its claim raises the fence past this holder's token.
    await thief.order.withLock(id, (_, { tx }) => tx.order.update({ where: { id }, data: { note: 'new holder' } }), { steal: true })
    resume.resolve()
    const error = await outcome(work)
    expect(caught).toBeInstanceOf(LockLostError)
    expect((caught as Error).message).toMatch(/Order\.update wrote nothing/)
    expect(error).toBe(caught)
    expect((await db.order.findUniqueOrThrow({ where: { id } })).note).toBe('new holder')
  })

  test('a withLock with a transaction nested in one without: its lost lock refuses its later queries with that LockLostError', async () => {
    const current = setup()
    const { db } = current
    const thief = await another(current)
    const { id } = await db.order.create({ data: {} })
    await db.product.create({ data: { sku: 'A-1', stock: 1 } })
    let inner: Promise<unknown> | undefined
    let late: unknown
    await db.product.withLock(
      'A-1',
      async () => {
        inner = db.order.withLock(
          id,
          async (_, { tx, lock }) => {
            await tx.order.update({ where: { id }, data: { status: 'stale' } })
            const stolen = await thief.acquire(lock.name, { steal: true })
            await until(() => lock.signal.aborted, 'the renewal to find the steal')
            late = await outcome(tx.order.findUniqueOrThrow({ where: { id } }))
            await stolen.release()
          },
          { ttl: 300 },
        )
        await inner.catch(() => undefined)
      },
      { transaction: false },
    )
    const lost = await outcome(inner!)
    expect(lost).toBeInstanceOf(LockLostError)
    await until(() => late !== undefined, 'fn to query after the loss')
    expect(late).toBe(lost)
    expect((await db.order.findUniqueOrThrow({ where: { id } })).status).toBe('new')
  })

  test('tx of a withLock without a transaction is the client: it still works after withLock, outside its flow', async () => {
    const { db } = setup()
    const { id } = await db.order.create({ data: {} })
    let kept: typeof db | undefined
    await db.order.withLock(id, (_, { tx }) => void (kept = tx as unknown as typeof db), { transaction: false })
    expect(await kept!.order.findUniqueOrThrow({ where: { id } })).toMatchObject({ id, status: 'new' })
  })
})
