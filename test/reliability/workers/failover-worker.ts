import { closeSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs'
import { createLockManager } from '../../../packages/core/src/index.js'
import { config, describeError, emit, nowMs, onCommand, sleep } from './worker-io.js'

/**
 * One holder of the Sentinel failover test. It takes one lock over and over, as the exclusion
 * worker does (a non-atomic read-modify-write of a counter file between an enter and an exit
 * record in an O_APPEND journal), and before leaving each section makes a **fenced write**: an
 * `F` record with its fencing token, which the referee (`support/fencing.ts`) accepts only if no
 * larger token was written before it in the journal.
 *
 * Store errors (the primary is gone, `LockNotReplicatedError`) are counted and the loop goes on.
 * On `hold`, the next section this worker is granted stays open until `unhold`, like work that
 * ignores its lock's signal: it reports `holding`, and `lost` if its signal aborts meanwhile.
 */
export interface FailoverConfig {
  url: string
  prefix: string
  name: string
  ttl: number
  pauseMs: number
  counterFile: string
  journalFile: string
}

const options = config<FailoverConfig>()
const locks = createLockManager({ store: options.url, prefix: options.prefix, ttl: options.ttl })
const journal = openSync(options.journalFile, 'a')
const tmp = `${options.counterFile}.${process.pid}.tmp`

let running = false
let holdAfter: number | undefined
let release: (() => void) | undefined
let finished: Promise<void> = Promise.resolve()

function record(kind: 'E' | 'F' | 'X', token?: number): void {
  writeSync(journal, `${kind} ${process.pid} ${nowMs().toFixed(3)}${token === undefined ? '' : ` ${token}`}\n`)
}

async function loop(): Promise<void> {
  let sections = 0
  const errors: Record<string, number> = {}
  while (running) {
    const asked = nowMs()
    try {
      await locks.request(options.name, async (lock) => {
        record('E', lock.fencingToken)
        const value = Number(readFileSync(options.counterFile, 'utf8'))
        if (holdAfter !== undefined && asked > holdAfter) {
          holdAfter = undefined
          const unheld = new Promise<void>((resolve) => (release = resolve))
          lock.signal.addEventListener('abort', () => emit('lost', { error: describeError(lock.signal.reason) }), { once: true })
          emit('holding', { token: lock.fencingToken })
          await unheld
        } else {
          await sleep(Math.random() * options.pauseMs)
        }
        writeFileSync(tmp, String(value + 1))
        renameSync(tmp, options.counterFile)
        record('F', lock.fencingToken)
        record('X')
      })
      sections++
    } catch (error) {
      const code = (error as { code?: unknown }).code
      const key = typeof code === 'string' ? code : 'other'
      errors[key] = (errors[key] ?? 0) + 1
      emit('failed', { error: describeError(error) })
      await sleep(20)
    }
  }
  emit('done', { sections, errors })
}

// Connect before reporting ready (Sentinel first, then the primary it names).
await locks.isLocked(options.name)
emit('ready')
onCommand(async ({ cmd }) => {
  if (cmd === 'go') {
    running = true
    finished = loop()
  }
  if (cmd === 'hold') holdAfter = nowMs()
  if (cmd === 'unhold') release?.()
  if (cmd === 'stop') {
    running = false
    await finished
  }
  if (cmd === 'exit') {
    closeSync(journal)
    await locks.close()
    process.exit(0)
  }
})
