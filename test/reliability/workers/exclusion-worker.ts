import { closeSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs'
import { createLockManager } from '../../../packages/core/src/index.js'
import { config, describeError, emit, nowMs, onCommand, sleep } from './worker-io.js'

/**
 * One of K processes of the exclusion test. It runs `sections` critical sections on one lock name,
 * each a deliberately non-atomic read-modify-write of a counter file with a random pause between
 * the read and the write: two sections that overlap lose an update. Each section also appends an
 * enter and an exit record to a journal opened with O_APPEND, so the kernel orders all processes'
 * records in one file and an overlap shows as an enter while another process is inside, with no
 * clock involved. The records carry the monotonic clock too, to report how long overlaps lasted.
 */
export interface ExclusionConfig {
  url: string
  prefix: string
  name: string
  sections: number
  /** Longest pause between reading and writing the counter, in ms. */
  pauseMs: number
  ttl: number
  /**
   * Sections after the short ones that last longer than `longTtl` (between 1× and 2× it): only
   * renewal (autoExtend, every ttl/3) keeps their lock, so a late or failed renewal shows as an
   * overlap.
   */
  longSections: number
  longTtl: number
  sleep: number
  counterFile: string
  journalFile: string
  /** false: run the same sections without the lock (proof that the detector catches overlaps). */
  lock: boolean
}

const options = config<ExclusionConfig>()
const locks = createLockManager({ store: options.url, prefix: options.prefix, ttl: options.ttl, sleep: options.sleep })
const journal = openSync(options.journalFile, 'a')
const tmp = `${options.counterFile}.${process.pid}.tmp`

function record(kind: 'E' | 'X'): void {
  // One write(2) per record on an O_APPEND descriptor: records never interleave.
  writeSync(journal, `${kind} ${process.pid} ${nowMs().toFixed(3)}\n`)
}

async function section(pauseMs: number): Promise<void> {
  record('E')
  const value = Number(readFileSync(options.counterFile, 'utf8'))
  await sleep(pauseMs)
  // Write-then-rename so a reader never sees a half-written file: the only way to lose a count
  // is the race the lock must prevent, never a torn read.
  writeFileSync(tmp, String(value + 1))
  renameSync(tmp, options.counterFile)
  record('X')
}

async function runAll(): Promise<void> {
  const started = nowMs()
  let errors = 0
  let longestWaitMs = 0
  for (let i = 0; i < options.sections + options.longSections; i++) {
    const long = i >= options.sections
    const pauseMs = long ? options.longTtl * (1 + Math.random()) : Math.random() * options.pauseMs
    const asked = nowMs()
    try {
      if (options.lock) {
        await locks.request(options.name, { ttl: long ? options.longTtl : options.ttl }, async () => {
          longestWaitMs = Math.max(longestWaitMs, nowMs() - asked)
          await section(pauseMs)
        })
      } else {
        await section(pauseMs)
      }
    } catch (error) {
      errors++
      emit('error', { error: describeError(error) })
    }
  }
  emit('done', { sections: options.sections + options.longSections, errors, longestWaitMs, ms: nowMs() - started })
}

// Connect before reporting ready, so the first section does not pay for the connection while
// other processes already run: every process starts contending at the same moment.
await locks.isLocked(options.name)
emit('ready')
onCommand(async ({ cmd }) => {
  if (cmd === 'go') await runAll()
  if (cmd === 'exit') {
    closeSync(journal)
    await locks.close()
    process.exit(0)
  }
})
