import { resolveLockManager } from './config.js'
import type { LockManager } from './lock-manager.js'
import type { LockOptions } from './options.js'
import { splitLockOptions } from './split-lock-options.js'
import { checkName, invalid } from './validate.js'

/** Options of `@Locked`: a request's options, plus which manager to use. */
export interface LockedOptions<This = any> extends LockOptions {
  /**
   * The manager to lock with, or a function returning it. The function is called at each call
   * with the instance (the class, for a static method) as `this` and as its argument, so it can
   * return a manager the instance holds, e.g. one injected into its constructor.
   * @default the process-wide default manager (`configure()`)
   * @example { locks: (self: Billing) => self.locks }
   * @example { locks: function (this: Billing) { return this.locks } }
   */
  locks?: LockManager | ((this: This, instance: This) => LockManager)
}

/** A key for `@Locked`: a fixed name, or a function of the call's arguments (`this` is the instance). */
export type LockedKey<This = unknown, Args extends unknown[] = never[]> = string | ((this: This, ...args: Args) => string)

/** One call of a method that a lock decorator wraps: what `lockDecorator`'s `run` receives. */
export interface LockedCall {
  /** The call's `this`: the instance, or the class for a static method. */
  readonly instance: unknown
  readonly args: readonly unknown[]
  /** This call's lock name: the key, or `ClassName.methodName`. */
  readonly name: string
  /** `ClassName.methodName` of the decorated method (the class that defines it), for messages and logs. */
  readonly method: string
  readonly manager: LockManager
  /** The decorator's lock options (validated), without `locks`. */
  readonly options: LockOptions
  /** Call the decorated method with the call's `this` and arguments. */
  proceed(): unknown
}

type Method = (this: unknown, ...args: unknown[]) => unknown

/**
 * Run a method under a lock; the method becomes async. The key defaults to
 * `ClassName.methodName` (the class that defines the method), or is a function of the call's
 * arguments:
 *
 * ```ts
 * class Billing {
 *   constructor(private readonly locks: LockManager) {}
 *   @Locked() async closeMonth() { ... }                                  // "Billing.closeMonth"
 *   @Locked((id: number) => `invoice:${id}`, { timeout: 5000 }) async pay(id: number) { ... }
 *   @Locked('report', { locks: (self: Billing) => self.locks }) async report() { ... }
 * }
 * ```
 *
 * Works with TypeScript's standard decorators and with `experimentalDecorators` (TypeORM's and
 * NestJS's mode), above or below other method decorators: metadata that frameworks keep on the
 * method (NestJS's `@Post`, `@Cron`, guards; anything set with `reflect-metadata`) stays readable
 * on the locked method. With `ifAvailable`, a taken lock rejects with `LockNotAcquiredError`
 * (DistributedLock's `blocking=False`).
 */
export function Locked(key?: LockedKey<any, any[]>, options?: LockedOptions): MethodLockDecorator {
  return lockDecorator('@Locked', key, options, (call) => call.manager.withLock(call.name, () => call.proceed(), call.options))
}

/**
 * For adapters that offer their own lock decorator (`@WithLock` in `@cachelock/nestjs`): `@Locked`'s
 * key, options, manager lookup and metadata handling, with each call run by `run`. Validates `key`
 * and `options` now (throws `InvalidLockArgumentError`, naming `label` when it is not applied to a
 * method); `run`'s promise becomes the call's result.
 */
export function lockDecorator(
  label: string,
  key: LockedKey<any, any[]> | undefined,
  options: LockedOptions | undefined,
  run: (call: LockedCall) => Promise<unknown>,
): MethodLockDecorator {
  if (key !== undefined && typeof key !== 'string' && typeof key !== 'function') throw invalid('key', 'a string or a function', key)
  if (typeof key === 'string') checkName(key, 'key')
  const { lockOptions, own } = splitLockOptions(options, 'options', ['locks'])
  const locks = own.locks as LockedOptions['locks']
  if (locks !== undefined && typeof locks !== 'function') resolveLockManager(locks, 'options.locks')

  function managerFor(instance: unknown): LockManager {
    if (typeof locks !== 'function') return resolveLockManager(locks, 'options.locks')
    // Not the default manager when the function finds none: the caller asked for a specific one
    // (an instance built outside its DI container, a field not set yet), and a silent fallback to
    // an in-process manager would drop mutual exclusion across processes.
    const manager = locks.call(instance, instance)
    if (manager === undefined) throw invalid('options.locks()', 'a LockManager (from createLockManager())', manager)
    return resolveLockManager(manager, 'options.locks()')
  }

  function wrap(original: Method, methodName: string, className: (self: unknown, wrapped: Method) => string): Method {
    const wrapped = function (this: unknown, ...args: unknown[]): Promise<unknown> {
      try {
        const method = `${className(this, wrapped)}.${methodName}`
        const name = typeof key === 'function' ? checkName(key.apply(this, args), 'key()') : (key ?? method)
        const manager = managerFor(this)
        return run({ instance: this, args, name, method, manager, options: lockOptions, proceed: () => original.apply(this, args) })
      } catch (error) {
        return Promise.reject(error)
      }
    }
    keepMetadata(original, wrapped)
    return wrapped
  }

  function decorator(first: unknown, second: unknown, third?: unknown): unknown {
    if (isStandardContext(second)) {
      if (second.kind !== 'method') throw invalid(label, 'applied to a method', second.kind)
      return wrap(first as Method, String(second.name), (self, wrapped) => definingClassName(self, second.static, second.name, wrapped))
    }
    const descriptor = third as PropertyDescriptor | undefined
    if (!descriptor || typeof descriptor.value !== 'function') throw invalid(label, 'applied to a method', descriptor?.value)
    const target = first as object
    const isStatic = typeof target === 'function'
    const className = isStatic ? (target as { name: string }).name : (target.constructor as { name: string }).name
    descriptor.value = wrap(descriptor.value as Method, String(second), () => className)
    return descriptor
  }
  return decorator as MethodLockDecorator
}

/** A method decorator in both of TypeScript's modes: standard and `experimentalDecorators`. */
export interface MethodLockDecorator {
  <T extends (this: any, ...args: any[]) => any>(value: T, context: ClassMethodDecoratorContext<any, T>): T
  <T>(target: object, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<T>): TypedPropertyDescriptor<T>
}

interface ReflectMetadata {
  getOwnMetadataKeys?(target: object): unknown[]
  getOwnMetadata?(key: unknown, target: object): unknown
  defineMetadata?(key: unknown, value: unknown, target: object): void
}

/**
 * Frameworks built on decorator metadata (NestJS's `@Post` and `@Cron`, routing-controllers,
 * type-graphql) keep it on the method function itself, and find a route or a job by reading it
 * from whatever function the class ends up with. A decorator applied before this one (written
 * below it) put its metadata on the original; copy it to the wrapper, or the route or the job
 * silently disappears. Decorators applied after (written above) see the wrapper already.
 * reflect-metadata is read only if the app loaded it: core does not depend on it.
 */
function keepMetadata(original: Method, wrapped: Method): void {
  const reflect = Reflect as ReflectMetadata
  if (reflect.getOwnMetadataKeys && reflect.getOwnMetadata && reflect.defineMetadata) {
    for (const key of reflect.getOwnMetadataKeys(original)) reflect.defineMetadata(key, reflect.getOwnMetadata(key, original), wrapped)
  }
  // Properties set on the function by hand, and its name and length (logs, stack traces, and
  // frameworks that check a handler's arity).
  for (const property of Reflect.ownKeys(original)) {
    if (property === 'prototype') continue
    Object.defineProperty(wrapped, property, Object.getOwnPropertyDescriptor(original, property)!)
  }
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
