import { existsSync } from 'node:fs'
import { createLockManager, type LockHandle } from '../../../packages/core/src/index.js'
import { config, describeError, emit, nowMs, onCommand } from './worker-io.js'

/**
 * A scripted lock holder for the kill, stall and steal tests. The test drives it one command at a
 * time and reads what happened from its messages:
 *
 * - `acquire {name, ttl, steal?}` → `requested`, then `acquired {fencingToken, clientId}`; if the
 *   lock is later lost, `lost {error}` (from the handle's `signal`).
 * - `stall {name, untilFile, maxMs, release}` → `stalling`, then a busy loop that blocks the event
 *   loop (no timer, no renewal, no I/O) until `untilFile` exists; then, when `release` is set, the
 *   release is sent in the same job (before any timer of the lease can run), so the store itself
 *   must refuse it; `stalled {ms}` and `released`/`release-failed` follow.
 * - `release {name}` → `released` or `release-failed {error}`.
 * - `exit` → closes the store and exits.
 */
interface HolderConfig {
  url: string
  prefix: string
  sleep: number
}

const options = config<HolderConfig>()
const locks = createLockManager({ store: options.url, prefix: options.prefix, sleep: options.sleep })
const handles = new Map<string, LockHandle>()

async function release(name: string): Promise<void> {
  const handle = handles.get(name)
  if (!handle) throw new Error(`not holding ${name}`)
  try {
    await handle.release()
    emit('released', { name })
  } catch (error) {
    emit('release-failed', { name, error: describeError(error), signalAborted: handle.signal.aborted })
  }
}

onCommand(async (command) => {
  const name = typeof command['name'] === 'string' ? command['name'] : ''
  switch (command.cmd) {
    case 'acquire': {
      emit('requested', { name })
      const handle = await locks.acquire(name, { ttl: Number(command['ttl']), ...(command['steal'] === true ? { steal: true } : {}) })
      handles.set(name, handle)
      handle.signal.addEventListener('abort', () => emit('lost', { name, error: describeError(handle.signal.reason) }))
      emit('acquired', { name, fencingToken: handle.fencingToken, clientId: locks.clientId })
      return
    }
    case 'stall': {
      const handle = handles.get(name)
      const until = String(command['untilFile'])
      const started = nowMs()
      emit('stalling', { name })
      // Blocks the event loop: nothing else in this process runs until the file appears.
      while (!existsSync(until) && nowMs() - started < Number(command['maxMs'])) {
        /* busy */
      }
      // Same job as the loop's end: the lease's timers have not run, it still thinks it holds.
      emit('stalled', { name, ms: nowMs() - started, heldLocally: handle?.held })
      if (command['release'] === true) await release(name)
      return
    }
    case 'release':
      await release(name)
      return
    case 'exit':
      await locks.close()
      process.exit(0)
  }
})
emit('ready')
