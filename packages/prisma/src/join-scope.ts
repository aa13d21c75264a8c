import diagnostics from 'node:diagnostics_channel'
import { LockOrderError, channelNames, heldRecordLock, withRecordLocks, type Lock, type LockOrderEvent } from '@cachelock/core'
import type { LockScope } from './lock-scope.js'
import type { ResolvedWithLockOptions } from './options.js'
import { prepare, type LockRequest } from './records.js'

const lockOrderChannel = diagnostics.channel(channelNames.lockOrder)

/**
 * A `withLock` inside another one's transaction joins it: `fn` gets the same `tx`, and the locks
 * this call takes are held until that transaction commits or rolls back (its writes are invisible
 * to others until then; releasing earlier would let another holder read the old row and overwrite
 * the change). Records the transaction already holds are not locked again: nested calls on the
 * same record do not deadlock, and branches of a `Promise.all` share the lock.
 *
 * A record that does not exist still rejects before `fn`, and its fresh lock is released at once.
 */
export async function joinScope(scope: LockScope, request: LockRequest, options: ResolvedWithLockOptions): Promise<unknown> {
  const names = [...new Set(request.targets.map((target) => target.name))]
  const fresh = names.filter((name) => !scope.locks.has(name)).sort()
  if (fresh.length === 0) {
    const held = await heldLocks(scope, names)
    return (await prepare(request, scope, (name) => held.get(name)!))()
  }
  checkJoinOrder(scope, fresh, options.strictLockOrder)

  // Registered before the first await, so a concurrent joiner of the same record waits for this
  // acquisition instead of requesting the lock a second time (and waiting for itself).
  let acquired!: { resolve: (locks: Lock[]) => void; reject: (error: unknown) => void }
  const acquisition = new Promise<Lock[]>((resolve, reject) => (acquired = { resolve, reject }))
  acquisition.catch(() => undefined)
  fresh.forEach((name, i) => {
    const lock = acquisition.then((locks) => locks[i]!)
    lock.catch(() => undefined)
    scope.locks.set(name, lock)
  })
  const pending = heldLocks(scope, names)
  pending.catch(() => undefined)

  return new Promise((resolve, reject) => {
    let started = false
    const holding = withRecordLocks(
      scope.manager,
      fresh,
      { ...options.lockOptions, strictLockOrder: options.strictLockOrder },
      scope,
      async (locks) => {
        acquired.resolve(locks)
        const held = await pending
        const call = await prepare(request, scope, (name) => held.get(name)!)
        started = true
        // fn runs here, inside withRecordLocks, so this flow's record locks include the new ones.
        call().then(resolve, reject)
        await scope.ended
      },
    )
    scope.holders.push(
      holding.catch((error: unknown) => {
        // Once fn has started, a failure here is the release at the end: the scope reports it.
        if (started) throw error
        // Before: the call fails (lock not acquired, record missing) and holds nothing.
        for (const name of fresh) scope.locks.delete(name)
        acquired.reject(error)
        reject(error)
      }),
    )
  })
}

/** The locks of `names` the scope holds or is acquiring, as they are registered now. */
async function heldLocks(scope: LockScope, names: readonly string[]): Promise<Map<string, Lock>> {
  const promises = names.map((name) => scope.locks.get(name)!)
  const locks = await Promise.all(promises)
  return new Map(names.map((name, i) => [name, locks[i]!]))
}

/**
 * Locks this transaction took in earlier nested calls are held by it but no longer visible to
 * `withRecordLocks`' own order check (their calls have returned); check them here, the same way.
 */
function checkJoinOrder(scope: LockScope, fresh: readonly string[], strict: boolean): void {
  const first = fresh[0]!
  for (const name of scope.locks.keys()) {
    if (name > first && !heldRecordLock(scope.manager, name)) {
      if (lockOrderChannel.hasSubscribers)
        lockOrderChannel.publish({ name: first, heldName: name, thrown: strict } satisfies LockOrderEvent)
      if (strict) throw new LockOrderError(first, name)
      return
    }
  }
}
