import type { LockHandle, LockManager } from '@cachelock/core'

/**
 * Process-wide state of the adapter, shared by every copy of `@cachelock/typeorm` loaded in the
 * process (a library that resolved its own copy, a CJS and an ESM consumer): entities decorated by
 * one copy must be recognised by another copy's `installModelLocks`, and a lock taken through one
 * copy must be seen by the guard another copy installed. It lives on `globalThis` under a
 * registered symbol; the version in the key (`v2`) changes whenever the shape below does.
 */

/** What `@LockModel` recorded for a class (validated against the entity metadata later). */
export interface LockModelConfig {
  /** Property names of the lock field(s); `undefined` = the primary key. */
  readonly fields: readonly string[] | undefined
  readonly guard: boolean
  readonly fence: string | undefined
  /** Overrides the model part of lock names; `undefined` = the decorated class's name. */
  readonly model: string | undefined
  /** The class the decorator was applied to (subclasses inherit its config and its model name). */
  readonly target: Class
}

/** A data source's settings, as `installModelLocks` recorded them. */
export interface Installation {
  /** `undefined`: the process-wide default manager, looked up at each use (so `configure()` may come later). */
  locks: LockManager | undefined
  strictLockOrder: boolean
  /** ms the guard waits for the store before refusing a write it cannot check (unset in an older copy's installation). */
  guardTimeout?: number
  /** Where row locks are held (unset in an older copy's installation: `'store'`). */
  lockIn?: 'store' | 'transaction'
  /** The subscriber instance in `dataSource.subscribers` (from whichever copy installed first). */
  readonly subscriber: object
}

/** A lock taken with `{ until: 'transaction' }`, released when its query runner's transaction ends. */
export interface TransactionLock {
  readonly handle: LockHandle
}

interface Registry {
  readonly models: WeakMap<Class, LockModelConfig>
  readonly installations: WeakMap<object, Installation>
  /** Installed data sources, for `withModelLock` to find the one an instance belongs to. */
  readonly installed: Set<WeakRef<object>>
  /** Keyed by query runner. */
  readonly transactionLocks: WeakMap<object, TransactionLock[]>
}

const slot = Symbol.for('cachelock.typeorm.registry.v2')
type WithRegistry = typeof globalThis & { [slot]?: Registry }

export const registry: Registry = ((globalThis as WithRegistry)[slot] ??= {
  models: new WeakMap(),
  installations: new WeakMap(),
  installed: new Set(),
  transactionLocks: new WeakMap(),
})

/** The `@LockModel` config of `target` or of the nearest decorated class it extends. */
export function lockModelConfig(target: unknown): LockModelConfig | undefined {
  for (let current = target; typeof current === 'function'; current = Object.getPrototypeOf(current)) {
    const config = registry.models.get(current as Class)
    if (config) return config
  }
  return undefined
}

/** A class, as decorators receive it (abstract ones included); `Instance` what it makes. */
export type Class<Instance = unknown> = abstract new (...args: any[]) => Instance
