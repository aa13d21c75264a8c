import { LockError, LockManager, LockNotAcquiredError, type Lock, type LockedKey, type LockOptions } from '@cachelock/core'
import { invalidArgument, lockDecorator, splitLockOptions, type LockedCall } from '@cachelock/core/adapter-kit'
import { Inject, Logger } from '@nestjs/common'
import { describeError } from './describe-error.js'

/** Options of `@WithLock`: core's lock options, plus what scheduled jobs need. */
export interface WithLockOptions extends LockOptions {
  /**
   * Do not wait: when another holder (another instance, or an earlier call here still running)
   * has the lock, skip the call with a debug log and resolve with `undefined`. For jobs that every
   * instance schedules and only one should run. Cannot be combined with `ifAvailable`, `timeout`,
   * `signal` or `steal`.
   * @default false
   */
  skipIfLocked?: boolean
  /**
   * Keep the lock at least this many ms after it was taken, even when the method finishes sooner
   * (ShedLock's `lockAtLeastFor`). Every instance's scheduler fires at about the same moment, but
   * not exactly: without it, an instance whose timer fires after a short job has finished finds
   * the lock free and runs the same tick again. Set it a little below the job's interval. The
   * call resolves when the method finishes; the lock is released later, in the background (or
   * at once if it is lost).
   * @default 0
   * @example @Cron('0 * * * * *') @WithLock('minutely-report', { skipIfLocked: true, holdAtLeast: 50_000 })
   */
  holdAtLeast?: number
}

const notWithSkip = ['ifAvailable', 'timeout', 'signal', 'steal'] as const
const MAX_TIMER_MS = 2_147_483_647

/** Where Nest's property injection puts the manager on each instance of a class using `@WithLock`. */
const injectedLocks = Symbol('cachelock.injectedLocks')
const injectedInto = new WeakSet<object>()
const logger = new Logger('Cachelock')

/**
 * Run a provider's or controller's method under a lock taken in the application's `LockManager`
 * (the one `CachelockModule` provides; it is injected into the instance, no constructor parameter
 * needed). The method becomes async. Above or below `@Post`, `@Cron`, `@UseGuards` alike.
 *
 * ```ts
 * @Injectable()
 * export class Billing {
 *   @WithLock((id: number) => `invoice:${id}`, { timeout: 5000 })
 *   async pay(id: number) { ... }                          // one payment per invoice at a time
 *
 *   @Cron(CronExpression.EVERY_MINUTE)
 *   @WithLock('billing:close-day', { skipIfLocked: true, holdAtLeast: 50_000 })
 *   async closeDay() { ... }                               // one instance per minute
 * }
 * ```
 *
 * The key defaults to `ClassName.methodName`; a function key gets the call's arguments (and the
 * instance as `this`). A taken lock waits (up to `timeout`: `LockNotAcquiredError`), or with
 * `ifAvailable` rejects at once, or with `skipIfLocked` skips the call.
 */
export function WithLock(key?: LockedKey<any, any[]>, options?: WithLockOptions): MethodDecorator {
  const { lockOptions, own } = splitLockOptions(options, 'options', ['skipIfLocked', 'holdAtLeast'])
  const { skipIfLocked = false, holdAtLeast = 0 } = own as Pick<WithLockOptions, 'skipIfLocked' | 'holdAtLeast'>
  if (typeof skipIfLocked !== 'boolean') throw invalidArgument('options.skipIfLocked', 'a boolean', skipIfLocked)
  if (typeof holdAtLeast !== 'number' || !Number.isFinite(holdAtLeast) || holdAtLeast < 0 || holdAtLeast > MAX_TIMER_MS) {
    throw invalidArgument('options.holdAtLeast', `a finite number of milliseconds >= 0 and <= ${MAX_TIMER_MS}`, holdAtLeast)
  }
  if (skipIfLocked) {
    const clash = notWithSkip.find((name) => lockOptions[name] !== undefined)
    if (clash) throw invalidArgument(`options.${clash}`, 'unset with `skipIfLocked` (which never waits)', lockOptions[clash])
  }
  const run = (call: LockedCall) => {
    if (holdAtLeast > 0) return runHolding(call, skipIfLocked, holdAtLeast)
    if (skipIfLocked)
      return call.manager.request(call.name, { ...call.options, ifAvailable: true }, (lock) => (lock ? call.proceed() : skip(call)))
    return call.manager.withLock(call.name, () => call.proceed(), call.options)
  }
  const decorate = lockDecorator('@WithLock', key, { ...lockOptions, locks: managerOf }, run)

  return (target, propertyKey, descriptor) => {
    if (typeof propertyKey === 'object')
      throw invalidArgument('@WithLock', 'used with experimentalDecorators (NestJS’s decorator mode)', 'a standard decorator context')
    if (typeof target === 'function')
      throw invalidArgument(
        '@WithLock',
        'applied to an instance method (Nest injects the manager into instances)',
        `static ${String(propertyKey)}`,
      )
    if (!injectedInto.has(target)) {
      // Property injection: Nest sets the manager on every instance it creates of this class.
      Inject(LockManager)(target, injectedLocks)
      injectedInto.add(target)
    }
    return decorate(target, propertyKey, descriptor)
  }
}

function managerOf(instance: unknown): LockManager {
  const locks = (instance as { [injectedLocks]?: LockManager } | null | undefined)?.[injectedLocks]
  if (locks !== undefined) return locks
  const owner = (instance as object | null | undefined)?.constructor?.name ?? String(instance)
  throw new LockError(
    `@WithLock on ${owner}: no LockManager was injected into this instance. Let Nest create it (a provider or controller of an application that imports CachelockModule), not \`new\`.`,
  )
}

function skip(call: LockedCall): undefined {
  logger.debug(`Skipped ${call.method}: the lock ${JSON.stringify(call.name)} is held by another holder`)
  return undefined
}

/** `holdAtLeast`: the call settles with the method; the lock may be held on after it. */
function runHolding(call: LockedCall, skipIfLocked: boolean, holdAtLeast: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false
    const settle = (outcome: () => void) => {
      settled = true
      outcome()
    }
    const ifAvailable = skipIfLocked || call.options.ifAvailable === true
    const held = call.manager.request(call.name, { ...call.options, ifAvailable }, async (lock: Lock | null) => {
      if (!lock) {
        if (skipIfLocked) settle(() => resolve(skip(call)))
        else
          settle(() =>
            reject(new LockNotAcquiredError(call.name, `Lock ${JSON.stringify(call.name)} was not acquired: it is held by another holder`)),
          )
        return
      }
      const started = performance.now()
      try {
        const result = await call.proceed()
        settle(() => resolve(result))
      } catch (error) {
        settle(() => reject(error))
      }
      const until = started + holdAtLeast
      await holdUntil(lock, until)
      // Stolen, or lost (renewal failed for a whole ttl): the hold ends early, and another instance
      // may run the same tick. The call has its result already, so this log is where it shows.
      if (lock.signal.aborted && performance.now() < until)
        logger.warn(
          `The lock ${JSON.stringify(call.name)} of ${call.method} was lost during its holdAtLeast (${describeError(lock.signal.reason)}); ` +
            `another instance may run ${call.method} before the hold would have ended`,
        )
    })
    held.catch((error: unknown) => {
      if (!settled) settle(() => reject(error))
      else logger.warn(`Holding the lock ${JSON.stringify(call.name)} of ${call.method} failed: ${describeError(error)}`)
    })
  })
}

function holdUntil(lock: Lock, until: number): Promise<void> {
  const ms = until - performance.now()
  if (ms <= 0 || lock.signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      lock.signal.removeEventListener('abort', done)
      resolve()
    }
    // Nobody awaits the rest of the hold (the call already has its result): it must not keep the
    // process alive. A process that exits leaves the lock to its ttl.
    const timer = setTimeout(done, ms).unref()
    lock.signal.addEventListener('abort', done, { once: true })
  })
}
