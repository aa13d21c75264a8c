import type { AcquireOptions, Lock } from '@cachelock/core'
import type { RecordLockHandle } from '@cachelock/core/adapter-kit'
import type { Prisma } from '@prisma/client/extension'
import type { ModelLockOptions, WithLockOptions } from './options.js'

// Types only. A model method's `this` is the model's delegate (`db.order`); Prisma puts the model's
// types under a symbol key of it, which `Prisma.Result` and `Prisma.Args` read.

/** What Prisma takes away from a transaction client (its `ITXClientDenyList`). */
type TransactionDenyList = '$connect' | '$disconnect' | '$on' | '$use' | '$extends'

/**
 * The client `fn` receives as `tx`: the client `lockExtension()` was applied to, as a transaction
 * client. Known when the extension is created inside `$extends(...)`, which is where TypeScript
 * learns the client's type; an extension created apart from its client types `tx` as `any`
 * (or pass the client type: `lockExtension<typeof prisma>()`).
 */
export type LockTransactionClient<C, Models = Record<string, ModelLockOptions>> = unknown extends C
  ? any
  : Omit<C, TransactionDenyList> & { [K in keyof C as C[K] extends ModelDelegate ? K : never]: LockModelMethods<C, Models> }

/** A model delegate (`db.order`): Prisma keys its types by a symbol. */
type ModelDelegate = { [K: symbol]: { types: { payload: unknown } } }

/** `fn`'s second argument for one record. */
export interface WithLockContext<C, Models = Record<string, ModelLockOptions>> {
  /**
   * The transaction client (the client itself with `transaction: false`). Its models have the lock
   * methods too: a `withLock` nested in `fn` joins this transaction.
   */
  tx: LockTransactionClient<C, Models>
  /** The record's lock: `fencingToken`, `signal` (aborted when the lock is lost), `extend()`. */
  lock: Lock
}

/** `fn`'s second argument for several records. */
export interface WithLocksContext<C, Models = Record<string, ModelLockOptions>> {
  tx: LockTransactionClient<C, Models>
  /** The records' locks, in the order the records were given. */
  locks: Lock[]
}

type ModelTypes<T> = T extends { [K: symbol]: { types: infer X } } ? X : never
type ModelPayload<T> = ModelTypes<T> extends { payload: infer P } ? P : never
type ModelName<T> = ModelPayload<T> extends { name: infer N extends string } ? N : never
type ModelScalars<T> = ModelPayload<T> extends { scalars: infer S } ? S : never

/** The record `fn` receives: the model's type, as `findUniqueOrThrow` returns it. */
export type LockedRecord<T> = Prisma.Result<T, object, 'findUniqueOrThrow'>

/** A unique where of the model, as `findUnique` takes it. */
export type UniqueWhere<T> = NonNullable<Prisma.Args<T, 'findUnique'>['where']>

type ByField<T, Models> =
  ModelName<T> extends keyof Models ? (Models[ModelName<T>] extends { by: infer B extends string } ? B : 'id') : 'id'
// A BigInt key may be given as a number too; both make the same lock name.
type Loosen<V> = V extends bigint ? bigint | number : V

/** A bare value of the model's `by` field (`id` unless configured); `never` when the model has no such field. */
export type RecordId<T, Models> =
  ByField<T, Models> extends keyof ModelScalars<T> ? Loosen<NonNullable<ModelScalars<T>[ByField<T, Models>]>> : never

/** What names one record: a bare `by` value or a unique where. */
export type RecordTarget<T, Models> = RecordId<T, Models> | UniqueWhere<T>

type Missing = NonNullable<WithLockOptions['missing']>
/** The record as `fn` gets it: `null` too when `missing` may be `'allow'`. */
type Found<T, M extends Missing> = 'allow' extends M ? LockedRecord<T> | null : LockedRecord<T>

/**
 * `where` as given, with keys a unique where does not have mapped to `never`: `where` is a type
 * parameter (whether it is an array decides `fn`'s type), and a type parameter gets no excess
 * property check, so a typo beside a valid key (`{ id: 1, stauts: 'new' }`) is caught here.
 */
type Exactly<W, Where> = W extends Date | Uint8Array
  ? W
  : { [K in keyof W]: W extends readonly unknown[] ? Exactly<W[K], Where> : K extends keyof UnionKeys<Where> ? W[K] : never }
type UnionKeys<U> = { [K in U extends unknown ? keyof U : never]: unknown }

/** The methods `lockExtension()` adds to every model. */
export interface LockModelMethods<C, Models> {
  /**
   * Lock the record, read it fresh, run `fn(record, { tx, lock })` in a transaction, confirm the
   * lock is still held, commit, release. Resolves with `fn`'s result.
   *
   * With an array of records, they are locked in one canonical order and `fn(records, { tx, locks })`
   * gets them in the order given (a tuple for an array literal: `([from, to]) => …`). With `missing: 'allow'`, `fn` receives `null` for a record that
   * does not exist (yet).
   *
   * One signature, not one per shape: a mistake in `options` is then reported on the option itself.
   */
  withLock<T, const W extends RecordTarget<T, Models> | readonly RecordTarget<T, Models>[], R, M extends Missing = 'reject'>(
    this: T,
    where: W & Exactly<W, UniqueWhere<T>>,
    fn: W extends readonly unknown[]
      ? (records: { -readonly [I in keyof W]: Found<T, M> }, context: WithLocksContext<C, Models>) => R
      : (record: Found<T, M>, context: WithLockContext<C, Models>) => R,
    options?: WithLockOptions & { missing?: M },
  ): Promise<Awaited<R>>
  /**
   * Take the record's lock and hold it until the handle is released (or its `await using` block
   * ends). A plain lock: `handle.run(fn)` runs `fn` as its holder (a nested `withLock` on the
   * record then reuses it).
   */
  lock<T>(this: T, where: RecordTarget<T, Models>, options?: AcquireOptions): Promise<RecordLockHandle>
  /** Whether anyone holds the record's lock right now (a snapshot). */
  isLocked<T>(this: T, where: RecordTarget<T, Models>): Promise<boolean>
}

type Empty = Record<never, never>

/** The extension arguments Prisma reads off the value `lockExtension()` returns. */
export interface LockExtensionArgs<C, Models> {
  $extends: {
    extArgs: {
      result: Empty
      model: { $allModels: { [K in keyof LockModelMethods<C, Models>]: () => LockModelMethods<C, Models>[K] } }
      query: Empty
      client: Empty
    }
  }
}

/**
 * What `lockExtension()` returns, typed the way Prisma reads an extension: a function of the
 * client returning `{ $extends: { extArgs } }`, so `prisma.$extends(lockExtension())` knows the
 * new methods. The first signature lets TypeScript infer `C` from `$extends`'s parameter (when the
 * call is written inside it); the second accepts any client when `C` was given or is unknown.
 */
export type LockExtension<C, Models = Record<string, ModelLockOptions>> = ((client: C) => LockExtensionArgs<C, Models>) &
  ((client: unknown) => LockExtensionArgs<C, Models>)
