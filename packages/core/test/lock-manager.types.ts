import { expectTypeOf } from 'vitest'
import { configure, createLockManager, Lock, LockHandle, type LockOptions } from '@cachelock/core'

// Compile-time checks of the manager's signatures, run by `tsc` (`pnpm typecheck`), never called.
// A `@ts-expect-error` whose line compiles fails the typecheck; `on \`x\`` in its comment also
// says where the error must start (test/type-error-locations.test.ts checks that).
const locks = createLockManager()

export async function callbacks(options: LockOptions, maybe: boolean) {
  expectTypeOf(await locks.request('a', async (lock) => lock)).toEqualTypeOf<Lock>()
  expectTypeOf(await locks.request('a', { mode: 'shared' }, async (lock) => lock)).toEqualTypeOf<Lock>()
  expectTypeOf(await locks.request('a', { ifAvailable: false }, async (lock) => lock)).toEqualTypeOf<Lock>()
  // With ifAvailable, or options that may set it, the callback may get null.
  expectTypeOf(await locks.request('a', { ifAvailable: true }, async (lock) => lock)).toEqualTypeOf<Lock | null>()
  expectTypeOf(await locks.request('a', { ifAvailable: maybe }, async (lock) => lock)).toEqualTypeOf<Lock | null>()
  expectTypeOf(await locks.request('a', options, async (lock) => lock)).toEqualTypeOf<Lock | null>()
  expectTypeOf(await locks.withLock('a', async () => 1, { timeout: 5 })).toEqualTypeOf<number>()
  expectTypeOf(await locks.acquire('a', { timeout: 5 })).toEqualTypeOf<LockHandle>()
  expectTypeOf(await locks.tryAcquire('a')).toEqualTypeOf<LockHandle | null>()
}

export async function misspeltOptions() {
  // @ts-expect-error on `timout`: a misspelt option is reported on the option
  await locks.request('a', { timout: 5 }, async () => 1)
  // @ts-expect-error on `timout`: also beside ifAvailable, which decides the callback's type
  await locks.request('a', { ifAvailable: true, timout: 5 }, async () => 1)
  // @ts-expect-error on `timout`
  await locks.withLock('a', async () => 1, { timout: 5 })
  // @ts-expect-error on `timout`
  await locks.acquire('a', { timout: 5 })
  // @ts-expect-error on `timeout`: tryAcquire never waits
  await locks.tryAcquire('a', { timeout: 5 })
  // @ts-expect-error on `tll`
  createLockManager({ tll: 5 })
  // @ts-expect-error on `prefx`
  configure({ prefx: 'a:' })
  // @ts-expect-error on `lock.fencingToken`: with ifAvailable the callback may get null
  await locks.request('a', { ifAvailable: true }, async (lock) => lock.fencingToken)
}
