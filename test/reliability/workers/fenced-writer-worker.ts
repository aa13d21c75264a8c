import { closeSync, openSync, writeSync } from 'node:fs'
import { createLockManager } from '../../../packages/core/src/index.js'
import { counterRow, type CounterConfig } from './counter-row.js'
import { config, describeError, emit, onCommand, sleep } from './worker-io.js'

/**
 * One of K processes of the fenced-updates test: read-modify-writes of one counter row through an
 * ORM adapter, each increment that the database accepted recorded as one line of a journal opened
 * with O_APPEND (the referee). The row must end at exactly the number of accepted increments: one
 * fewer is an update lost. A `locked` worker increments under `withLock`; in some of its sections
 * the lock is lost between the read and the write: the store drops it (as a memcached eviction or
 * a Redis failover does) and the holder stalls, unaware, while another process takes the lock;
 * then it writes what it computed before. An `unlocked` worker increments without the lock.
 */
export interface FencedWriterConfig extends CounterConfig {
  url: string
  prefix: string
  role: 'locked' | 'unlocked'
  sections: number
  /** Longest pause between the read and the write of an ordinary section, in ms. */
  pauseMs: number
  /** Share of locked sections whose lock the store drops between the read and the write. */
  stallRate: number
  /** How long such a holder then stalls before its write, in ms. */
  stallMs: number
  /** Longest pause between two sections, in ms (the lock is free meanwhile). */
  gapMs: number
  transaction: boolean
  /** Unlocked: check the write against the fence value read (Prisma's `where`; TypeORM does it itself). */
  checked: boolean
  sleep: number
  journalFile: string
}

const options = config<FencedWriterConfig>()
const locks = createLockManager({ store: options.url, prefix: options.prefix, sleep: options.sleep })
// Drops a lock from the store the way an eviction or a failover does: the holder's manager is not told.
const evictor = createLockManager({ store: options.url, prefix: options.prefix })
const row = await counterRow(options, locks)
const journal = openSync(options.journalFile, 'a')
const accepted = () => void writeSync(journal, `${options.role} ${process.pid}\n`)

async function runAll(): Promise<void> {
  let written = 0
  let stalls = 0
  const refused: Record<string, number> = {}
  for (let i = 0; i < options.sections; i++) {
    const stall = options.role === 'locked' && Math.random() < options.stallRate
    if (stall) stalls++
    const pause = async (): Promise<void> => {
      if (stall) await evictor.forceRelease(row.lockName)
      await sleep(stall ? options.stallMs : Math.random() * options.pauseMs)
    }
    let wrote = false
    try {
      if (options.role === 'locked') {
        // Without a transaction the write is durable once it resolved; in one, once withLock has.
        await row.locked({ pause, transaction: options.transaction }, () => {
          wrote = true
          if (!options.transaction) accepted()
        })
        if (options.transaction) accepted()
      } else {
        await row.unlocked(pause, options.checked)
        wrote = true
        accepted()
      }
    } catch (error) {
      const { name, code } = describeError(error) as { name?: string; code?: string | number }
      const kind = `${name ?? 'Error'}${code === undefined ? '' : ` ${code}`}${wrote ? ' after the write' : ''}`
      refused[kind] = (refused[kind] ?? 0) + 1
    }
    if (wrote) written++
    await sleep(Math.random() * options.gapMs)
  }
  emit('done', { sections: options.sections, written, stalls, refused })
}

// Connect before reporting ready, so that every process starts contending at the same moment.
await locks.isLocked('warm-up')
await row.value()
emit('ready')
onCommand(async ({ cmd }) => {
  if (cmd === 'go') await runAll()
  if (cmd === 'exit') {
    closeSync(journal)
    await row.close()
    await locks.close()
    await evictor.close()
    process.exit(0)
  }
})
