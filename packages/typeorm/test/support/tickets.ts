import { afterAll } from 'vitest'
import { installModelLocks, lockableRepository, LockModel, type InstallModelLocksOptions } from '@cachelock/typeorm'
import type { LockManager } from '@cachelock/core'
import type { DataSource, DataSourceOptions } from 'typeorm'
import type { Env } from './env.js'
import type { Orm } from './orm.js'

/**
 * A fenced model unlike FencedProduct in the ways the fence code must handle: a nullable fence
 * column (a table that gained the column after its rows existed), soft deletes, and a primary key
 * the application chooses.
 */
export function defineTicket(orm: Orm) {
  const { Entity, Column, PrimaryColumn, DeleteDateColumn } = orm
  @Entity()
  @LockModel('code', { fence: 'fence' })
  class Ticket {
    @PrimaryColumn('integer') id!: number
    @Column('varchar', { unique: true }) code!: string
    @Column('integer') stock!: number
    @Column({ type: 'bigint', nullable: true }) fence!: string | number | null
    @DeleteDateColumn({ nullable: true }) deletedAt!: Date | null
  }
  return Ticket
}

export type TicketClass = ReturnType<typeof defineTicket>

let nextId = 1
/** A primary key no other test of the file uses. */
export const ticketId = () => nextId++ + Math.floor(Math.random() * 1e6) * 1000

export interface TicketProcess {
  dataSource: DataSource
  locks: LockManager
  tickets: ReturnType<typeof ticketRepository>
}

const ticketRepository = (dataSource: DataSource, Ticket: TicketClass) => dataSource.getRepository(Ticket).extend(lockableRepository)

/**
 * Tickets of one "process" of `env` (its own data source on the file's database): `locks` defaults
 * to a fresh manager on the file's store; `extra` is merged into the data source options.
 */
export function useTickets(env: Env) {
  const cleanups: (() => Promise<unknown>)[] = []
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup()
  })
  let Ticket: TicketClass | undefined
  return {
    get Ticket(): TicketClass {
      return (Ticket ??= defineTicket(env.orm))
    },
    async process(options: Partial<InstallModelLocksOptions> = {}, extra: Partial<DataSourceOptions> = {}): Promise<TicketProcess> {
      Ticket ??= defineTicket(env.orm)
      const dataSource = env.dataSourceFor([Ticket], extra)
      const locks = options.locks ?? env.manager()
      installModelLocks(dataSource, { ...options, locks })
      await dataSource.initialize()
      cleanups.push(() => dataSource.destroy())
      return { dataSource, locks, tickets: ticketRepository(dataSource, Ticket) }
    },
  }
}
