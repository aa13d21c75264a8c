import { describe, expect, it } from 'vitest'
import { LockError, LockLostError, type Lock } from '@cachelock/core'
import { useEnv } from './support/env.js'
import { deferred, rejection, unique } from './support/helpers.js'
import { ticketId, useTickets, type TicketProcess } from './support/tickets.js'

/**
 * The fence claim's slow path (see `claimFence`): a claim that matched nothing reads the row to
 * tell a missing row, a newer holder's claim, an already-made claim and a row that changed under
 * it apart. SQLite triggers stand for what makes a claim match nothing on a real database:
 * - `claim_skips`: the next N claims of a row match nothing while the row stays readable and
 *   claimable, as when another writer changes the row between the claim and its read;
 * - codes starting with `same-`: a claim that changes nothing counts as no row, as MySQL counts
 *   only changed rows.
 */
describe('the fence claim when it matches nothing (SQLite)', () => {
  const env = useEnv({ line: '1.x', db: 'sqlite', store: 'memory' })
  const tickets = useTickets(env)
  let a: TicketProcess

  const ready = async () => {
    if (a) return a
    a = await tickets.process()
    await a.dataSource.query('CREATE TABLE claim_skips (code varchar PRIMARY KEY, n integer NOT NULL)')
    await a.dataSource.query(`CREATE TRIGGER skip_claims BEFORE UPDATE OF fence ON ticket
      WHEN (SELECT n FROM claim_skips WHERE code = OLD.code) > 0
      BEGIN UPDATE claim_skips SET n = n - 1 WHERE code = OLD.code; SELECT RAISE(IGNORE); END`)
    await a.dataSource.query(`CREATE TRIGGER changed_rows_only BEFORE UPDATE OF fence ON ticket
      WHEN OLD.code LIKE 'same-%' AND NEW.fence IS OLD.fence
      BEGIN SELECT RAISE(IGNORE); END`)
    return a
  }
  const row = async (code: string) =>
    (await a.dataSource.query('SELECT fence, stock, deletedAt FROM ticket WHERE code = ?', [code]))[0] as {
      fence: number | null
      stock: number
      deletedAt: string | null
    }
  const skipsLeft = async (code: string) => (await a.dataSource.query('SELECT n FROM claim_skips WHERE code = ?', [code]))[0].n as number
  const create = async (code: string, fence: number | null = null) => {
    await a.tickets.insert({ id: ticketId(), code, stock: 1, fence })
    return code
  }

  it('reads a NULL fence as 0 and claims again: the third claim takes the row', async () => {
    await ready()
    const code = await create(unique('T'))
    await a.dataSource.query('INSERT INTO claim_skips (code, n) VALUES (?, 2)', [code])
    const token = await a.tickets.withLock(code, (_row, _manager, lock) => lock.fencingToken)
    expect(await skipsLeft(code)).toBe(0)
    expect(await row(code)).toMatchObject({ fence: token })
  })

  it('gives up after three claims with a LockError saying why; fn does not run', async () => {
    await ready()
    const code = await create(unique('T'))
    await a.dataSource.query('INSERT INTO claim_skips (code, n) VALUES (?, 5)', [code])
    let ran = false
    // No transaction, so the skips the claims used up stay used up (and count the claims).
    const error = await rejection(a.tickets.withLock(code, () => void (ran = true), { transaction: false }))
    expect(error).toBeInstanceOf(LockError)
    expect(error).not.toBeInstanceOf(LockLostError)
    expect(error.message).toBe(`Could not claim the Ticket row locked by "ticket:code:${code}": it kept changing under the claim`)
    expect(ran).toBe(false)
    expect(await skipsLeft(code)).toBe(2) // exactly three claims were made
    expect(await row(code)).toMatchObject({ fence: null })
  })

  it('takes a claim that matched nothing but finds the row already at its token as made (a driver counting changed rows)', async () => {
    await ready()
    const code = await create(unique('same'))
    await a.tickets.withLock(code, async (_row, manager, lock) => {
      // withLock's claim changed the fence; this write's claim sets the same value and counts nothing.
      await manager.update(tickets.Ticket, { code }, { stock: 7 })
      expect(await row(code)).toMatchObject({ fence: lock.fencingToken, stock: 7 })
    })
    expect(await row(code)).toMatchObject({ stock: 7 })
  })

  it('refuses a write when the fence was raised past the held lock by something else, with a LockError saying so', async () => {
    await ready()
    const code = await create(unique('T'))
    let token = 0
    const error = await rejection(
      a.tickets.withLock(code, async (_row, manager, lock) => {
        token = lock.fencingToken
        await manager.query('UPDATE ticket SET fence = ? WHERE code = ?', [token + 100, code]) // by hand
        await manager.update(tickets.Ticket, { code }, { stock: 9 })
      }),
    )
    expect(error).toBeInstanceOf(LockError)
    expect(error).not.toBeInstanceOf(LockLostError)
    expect(error.message).toBe(
      `This Ticket row cannot be written under lock "ticket:code:${code}": its fence is ${token + 100}, past this holder's fencing ` +
        `token ${token}, although the lock is held. The column was written by something other than a newer holder of this lock ` +
        '(another lock store or prefix, another lock name for the same row, or by hand). Lock each row by one name on one store, ' +
        'and leave the column to the adapter.',
    )
    expect(await row(code)).toMatchObject({ stock: 1, fence: null }) // withLock's claim too: the transaction rolled back
  })

  it("refuses a stale holder's restore of a soft-deleted row a newer holder claimed", async () => {
    await ready()
    const b = await tickets.process()
    const code = await create(unique('T'))
    await a.tickets.softDelete({ code })
    const [holding, go] = [deferred(), deferred()]
    let restore: unknown = 'not tried'
    const stale = a.tickets.withLock(
      code,
      async (_row, manager) => {
        holding.resolve()
        await go.promise
        restore = await manager.restore(tickets.Ticket, { code }).then(
          () => 'restored',
          (error: unknown) => error,
        )
      },
      { transaction: false, missing: 'allow', ttl: 10_000, autoExtend: false },
    )
    await holding.promise
    const tokenB = await b.tickets.withLock(code, (_row, _manager, lock: Lock) => lock.fencingToken, { steal: true, missing: 'allow' })
    go.resolve()
    await stale.catch(() => undefined)
    expect(restore).toBeInstanceOf(LockLostError)
    expect(await row(code)).toMatchObject({ fence: tokenB, deletedAt: expect.any(String) })
  })
})
