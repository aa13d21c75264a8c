import { describe, expect, it } from 'vitest'
import type { EntityManager, Logger } from 'typeorm'
import { useEnv } from './support/env.js'
import { unique } from './support/helpers.js'
import { ticketId, useTickets, type TicketProcess } from './support/tickets.js'

/**
 * What a fenced write sends to the database (SQLite, each statement logged): the claim and the
 * write share one transaction (fn's, or one opened for the pair when fn has none), a write that
 * needs no claim is sent alone, and a claim that took the row costs no read.
 */
describe('fenced writes, statement by statement (SQLite)', () => {
  const env = useEnv({ line: '1.x', db: 'sqlite', store: 'memory' })
  const tickets = useTickets(env)
  const log: string[] = []
  const logger: Logger = {
    logQuery: (query) => void log.push(query.replace(/\s+/g, ' ').trim()),
    logQueryError: () => undefined,
    logQuerySlow: () => undefined,
    logSchemaBuild: () => undefined,
    logMigration: () => undefined,
    log: () => undefined,
  }
  let a: TicketProcess
  const ready = async () => (a ??= await tickets.process({}, { entities: [tickets.Ticket, env.entities.Counter], logger }))

  /** The statements `body` sends, each shortened to its verb (and table, for writes). */
  async function statements(body: () => Promise<unknown>): Promise<string[]> {
    const from = log.length
    await body()
    return log.slice(from).map((query) => {
      const write = /^(UPDATE|INSERT INTO|DELETE FROM) "(\w+)"/.exec(query)
      if (write) return `${write[1]} ${write[2]}${/"fence" = /.test(query) && write[1] === 'UPDATE' ? ' (claim)' : ''}`
      return query.split(' ')[0]!
    })
  }
  const create = async (fence: number | null = null) => {
    const code = unique('T')
    await a.tickets.insert({ id: ticketId(), code, stock: 1, fence })
    return code
  }
  const fenceOf = async (code: string) => (await a.tickets.findOneByOrFail({ code })).fence

  it('in fn’s transaction: the claim, then the write; no read, no savepoint', async () => {
    await ready()
    const code = await create()
    const sent = await a.tickets.withLock(code, (_row, manager) => statements(() => manager.update(tickets.Ticket, { code }, { stock: 5 })))
    expect(sent).toEqual(['UPDATE ticket (claim)', 'UPDATE ticket'])
  })

  it('the claim is not an update event: a subscriber of the entity sees the write alone', async () => {
    await ready()
    const code = await create()
    const seen: unknown[] = []
    const subscriber = { listenTo: () => tickets.Ticket, beforeUpdate: (event: { entity?: unknown }) => void seen.push(event.entity) }
    a.dataSource.subscribers.push(subscriber)
    try {
      await a.tickets.withLock(code, (_row, manager) => manager.update(tickets.Ticket, { code }, { stock: 5 }))
    } finally {
      a.dataSource.subscribers.splice(a.dataSource.subscribers.indexOf(subscriber), 1)
    }
    expect(seen).toEqual([{ stock: 5 }])
  })

  it('without a transaction: the claim and the write in one opened for the pair', async () => {
    await ready()
    const code = await create()
    const sent = await a.tickets.withLock(
      code,
      (_row, manager) => statements(() => manager.update(tickets.Ticket, { code }, { stock: 5 })),
      {
        transaction: false,
      },
    )
    expect(sent).toEqual(['BEGIN', 'UPDATE ticket (claim)', 'UPDATE ticket', 'COMMIT'])
  })

  it('a write to a table with no locked row is sent alone, without a claim or a transaction', async () => {
    await ready()
    const code = await create()
    const id = ticketId()
    await a.dataSource.getRepository(env.entities.Counter).insert({ id, value: 0 })
    const sent = await a.tickets.withLock(
      code,
      (_row, manager) => statements(() => manager.update(env.entities.Counter, { id }, { value: 1 })),
      {
        transaction: false,
      },
    )
    expect(sent).toEqual(['UPDATE counter'])
  })

  it('an insert under the lock is stamped with the token, not claimed', async () => {
    await ready()
    const code = unique('T')
    const { sent, token } = await a.tickets.withLock(
      code,
      async (_row, manager: EntityManager, lock) => ({
        sent: await statements(() => manager.save(tickets.Ticket, { id: ticketId(), code, stock: 1 })),
        token: lock.fencingToken,
      }),
      { missing: 'allow' },
    )
    expect(sent.filter((statement) => statement.startsWith('UPDATE'))).toEqual([])
    expect(sent).toContain('INSERT INTO ticket')
    expect(Number(await fenceOf(code))).toBe(token)
  })

  it('an insert without the lock is not checked against a loaded fence (there is none)', async () => {
    await ready()
    const sent = await statements(() => a.tickets.save({ id: ticketId(), code: unique('T'), stock: 1, fence: 0 }))
    expect(sent.filter((statement) => statement.startsWith('UPDATE'))).toEqual([])
  })

  it('the holder saving an entity loaded before its lock: claimed and stamped, so the row keeps the holder’s token', async () => {
    await ready()
    const code = await create()
    const early = await a.tickets.findOneByOrFail({ code }) // fence NULL, loaded before the lock
    const { sent, token } = await a.tickets.withLock(code, async (_row, manager, lock) => ({
      sent: await statements(() => manager.save(Object.assign(early, { stock: 3 }))),
      token: lock.fencingToken,
    }))
    expect(sent.filter((statement) => statement.startsWith('UPDATE'))).toEqual(['UPDATE ticket (claim)', 'UPDATE ticket'])
    expect(await a.tickets.findOneByOrFail({ code })).toMatchObject({ stock: 3 })
    expect(Number(await fenceOf(code))).toBe(token)
  })
})
