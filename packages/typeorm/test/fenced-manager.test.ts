import { describe, expect, it, vi } from 'vitest'
import { InvalidLockArgumentError, LockLostError } from '@cachelock/core'
import type { EntityManager } from 'typeorm'
import { useEnv } from './support/env.js'
import { deferred, rejection, unique } from './support/helpers.js'
import { ticketId, useTickets } from './support/tickets.js'

/**
 * The manager `withLock` hands to fn on a fenced model is the caller's manager with fenced writes:
 * otherwise it behaves as any EntityManager does (its repositories are cached, its methods can be
 * wrapped or spied on). And the guard around it: which entities it checks, and how it names a key
 * it cannot lock by.
 */
describe('the fenced manager and the guard (SQLite)', () => {
  const env = useEnv({ line: '1.x', db: 'sqlite', store: 'memory' })
  const tickets = useTickets(env)

  it('hands out one repository per entity, bound to the fenced manager', async () => {
    const a = await tickets.process()
    const code = unique('T')
    await a.tickets.insert({ id: ticketId(), code, stock: 1 })
    await a.tickets.withLock(code, async (_row, manager: EntityManager) => {
      const repository = manager.getRepository(tickets.Ticket)
      expect(manager.getRepository(tickets.Ticket)).toBe(repository)
      expect(repository.manager).toBe(manager)
    })
  })

  it('hands fn a manager whose write methods can be wrapped and spied on, as on any EntityManager', async () => {
    const a = await tickets.process()
    const code = unique('T')
    await a.tickets.insert({ id: ticketId(), code, stock: 1 })
    const token = await a.tickets.withLock(code, async (_row, manager: EntityManager, lock) => {
      // A wrapper assigned over the fenced method (as logging or tracing code does), then put back.
      const update = Reflect.get(manager, 'update')
      const targets: unknown[] = []
      manager.update = function (this: EntityManager, ...args: Parameters<EntityManager['update']>) {
        targets.push(args[0])
        return update.apply(this, args)
      } as EntityManager['update']
      await manager.update(tickets.Ticket, { code }, { stock: 2 })
      manager.update = update
      expect(targets).toEqual([tickets.Ticket])
      // A spy (it redefines the property), on a write method and on getRepository.
      const increment = vi.spyOn(manager, 'increment')
      const getRepository = vi.spyOn(manager, 'getRepository')
      await manager.getRepository(tickets.Ticket).increment({ code }, 'stock', 1)
      expect(increment).toHaveBeenCalledTimes(1)
      expect(getRepository).toHaveBeenCalledTimes(1)
      increment.mockRestore()
      getRepository.mockRestore()
      manager.getRepository = Reflect.get(manager, 'getRepository') // assigned
      // Redefined, as shimmer (OpenTelemetry's instrumentations) wraps a method.
      const wrap = (name: 'delete' | 'getRepository') =>
        Object.defineProperty(manager, name, { configurable: true, enumerable: false, writable: true, value: Reflect.get(manager, name) })
      wrap('delete')
      wrap('getRepository')
      return lock.fencingToken
    })
    const row = await a.tickets.findOneByOrFail({ code })
    expect([row.stock, Number(row.fence)]).toEqual([3, token])
  })

  it('does not guard an entity without @LockModel: another flow’s save goes through while its lock is held, and the holder’s after the lock is lost', async () => {
    const id = ticketId()
    await env.repos.counters.insert({ id, value: 0 })
    const [held, done] = [deferred(), deferred()]
    const holder = env.repos.counters.withLock(id, () => (held.resolve(), done.promise))
    await held.promise
    expect(await env.locks.isLocked(`counter:id:${id}`)).toBe(true)
    await env.repos.counters.save({ id, value: 5 })
    done.resolve()
    await holder
    expect((await env.repos.counters.findOneByOrFail({ id })).value).toBe(5)

    const lost = await rejection(
      env.repos.counters.withLock(
        id,
        async (row, manager, lock) => {
          await vi.waitFor(() => expect(lock.signal.aborted).toBe(true), { timeout: 10_000, interval: 10 }) // expired
          await manager.save(Object.assign(row, { value: 6 }))
        },
        { ttl: 50, autoExtend: false, transaction: false },
      ),
    )
    expect(lost).toBeInstanceOf(LockLostError)
    expect((await env.repos.counters.findOneByOrFail({ id })).value).toBe(6)
  })

  it('refuses to write an entity whose lock key cannot name a lock, naming the entity’s field', async () => {
    const error = await rejection(env.repos.orders.insert({ id: Number.NaN, status: 'new' }))
    expect(error).toBeInstanceOf(InvalidLockArgumentError)
    expect(error.message).toBe('Expected `entity.id` to be a finite number, string, bigint, boolean, Date or bytes, got NaN')
    expect(await env.repos.orders.count()).toBe(0)
  })
})
