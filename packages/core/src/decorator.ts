import { resolveLockManager } from './config.js'
import type { LockManager } from './lock-manager.js'
import type { LockOptions } from './options.js'
import { resolveRequestOptions, type ManagerDefaults } from './resolve-options.js'
import { checkName, checkOptions, invalid } from './validate.js'

/** Options of `@Locked`: a request's options, plus which manager to use. */
export interface LockedOptions extends LockOptions {
  /**
   * The manager to lock with, or a function returning it (read at call time).
   * @default the process-wide default manager (`configure()`)
   */
  locks?: LockManager | (() => LockManager)
}

/** A key for `@Locked`: a fixed name, or a function of the call's arguments (`this` is the instance). */
export type LockedKey<This = unknown, Args extends unknown[] = never[]> = string | ((this: This, ...args: Args) => string)

type Method = (this: unknown, ...args: unknown[]) => unknown

const lockedOptionNames = new Set(['mode', 'ifAvailable', 'steal', 'signal', 'timeout', 'ttl', 'autoExtend', 'locks'])

// Only for checking option types and combinations at decoration time; the real defaults come
// from the manager at call time.
const checkDefaults: ManagerDefaults = {
  store: undefined as never,
  prefix: '',
  sleep: 1,
  ttl: 1,
  autoExtend: true,
  timeout: undefined,
  releaseOnFinalize: true,
}

/**
 * Run a method under a lock; the method becomes async. The key defaults to
 * `ClassName.methodName` (the class that defines the method), or is a function of the call's
 * arguments:
 *
 * ```ts
 * class Billing {
 *   @Locked() async closeMonth() { ... }                                  // "Billing.closeMonth"
 *   @Locked((id: number) => `invoice:${id}`, { timeout: 5000 }) async pay(id: number) { ... }
 * }
 * ```
 *
 * Works with TypeScript's standard decorators and with `experimentalDecorators` (TypeORM's mode).
 * With `ifAvailable`, a taken lock rejects with `LockNotAcquiredError` (DistributedLock's
 * `blocking=False`).
 */
export function Locked(key?: LockedKey<any, any[]>, options?: LockedOptions) {
  if (key !== undefined && typeof key !== 'string' && typeof key !== 'function') throw invalid('key', 'a string or a function', key)
  if (typeof key === 'string') checkName(key, 'key')
  const { locks, ...lockOptions } = checkOptions(options, 'options', lockedOptionNames) as LockedOptions
  if (locks !== undefined && typeof locks !== 'function') resolveLockManager(locks, 'options.locks')
  resolveRequestOptions(lockOptions, 'options', checkDefaults, false)

  function wrap(original: Method, methodName: string, className: (self: unknown, wrapped: Method) => string): Method {
    const wrapped = function (this: unknown, ...args: unknown[]): Promise<unknown> {
      try {
        const name =
          typeof key === 'function' ? checkName(key.apply(this, args), 'key()') : (key ?? `${className(this, wrapped)}.${methodName}`)
        const manager = resolveLockManager(typeof locks === 'function' ? locks() : locks, 'options.locks')
        return manager.withLock(name, () => original.apply(this, args), lockOptions)
      } catch (error) {
        return Promise.reject(error)
      }
    }
    return wrapped
  }

  function decorator(value: Method, context: ClassMethodDecoratorContext): Method
  function decorator(target: object, propertyKey: string | symbol, descriptor: PropertyDescriptor): PropertyDescriptor
  function decorator(first: unknown, second: unknown, third?: unknown): unknown {
    if (isStandardContext(second)) {
      if (second.kind !== 'method') throw invalid('@Locked', 'applied to a method', second.kind)
      return wrap(first as Method, String(second.name), (self, wrapped) => definingClassName(self, second.static, second.name, wrapped))
    }
    const descriptor = third as PropertyDescriptor | undefined
    if (!descriptor || typeof descriptor.value !== 'function') throw invalid('@Locked', 'applied to a method', descriptor?.value)
    const target = first as object
    const isStatic = typeof target === 'function'
    const className = isStatic ? (target as { name: string }).name : (target.constructor as { name: string }).name
    descriptor.value = wrap(descriptor.value as Method, String(second), () => className)
    return descriptor
  }
  return decorator
}

function isStandardContext(value: unknown): value is ClassMethodDecoratorContext {
  return typeof value === 'object' && value !== null && 'kind' in value && 'name' in value
}

/**
 * Standard decorators do not name the class at decoration time, and `this.constructor` names the
 * subclass: find the class whose own property is the decorated method (once; it never changes).
 */
const classNames = new WeakMap<Method, string>()
function definingClassName(self: unknown, isStatic: boolean, property: string | symbol, wrapped: Method): string {
  const known = classNames.get(wrapped)
  if (known !== undefined) return known
  let holder: unknown = isStatic ? self : Object.getPrototypeOf(self)
  while (holder && Object.getOwnPropertyDescriptor(holder, property)?.value !== wrapped) holder = Object.getPrototypeOf(holder)
  const owner = isStatic
    ? (holder as { name?: string } | null)
    : ((holder as { constructor?: { name?: string } } | null)?.constructor ?? null)
  const name = owner?.name || 'anonymous'
  classNames.set(wrapped, name)
  return name
}
