import type { ModelLockOptions } from './options.js'
import type { UniqueWhere } from './types.js'

// Types only: what `lockExtension({ models })` may say, read off the client's types, so a typo in a
// model name, in `by` or in `fence` is a type error on that key. The same checks run when the
// extension is applied; these move them to compile time where the client's type is known (the
// extension written inside `$extends(...)`).

type ModelTypes<D> = D extends { [K: symbol]: { types: infer X } } ? X : never
type ModelName<D> = ModelTypes<D> extends { payload: { name: infer N extends string } } ? (string extends N ? never : N) : never
type Scalars<D> = ModelTypes<D> extends { payload: { scalars: infer S } } ? S : never

/** The client's model delegates, by model name (`Product` → `prisma.product`'s type). */
type DelegatesByName<C> = { [K in keyof C as ModelName<C[K]> extends never ? never : ModelName<C[K]>]: C[K] }

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T]
/**
 * The fields of a unique where that name a row alone: Prisma types it as a union with one member
 * per unique field (`AtLeast<…, 'id' | 'sku'>`), each requiring its own field.
 */
type UniqueKeys<W> = W extends unknown ? RequiredKeys<W> : never

type IntegerFields<S> = { [K in keyof S]: NonNullable<S[K]> extends number | bigint ? K : never }[keyof S]

/**
 * One model's settings: `by` one of its unique scalar fields (a compound unique has no single
 * value), `fence` one of its `Int`/`BigInt` fields. Written as intersections, not named aliases, so
 * an error lists the fields: `Type '"skuu"' is not assignable to type '"id" | "sku"'`.
 */
export type ModelLockOptionsOf<D> = {
  [K in keyof ModelLockOptions]: K extends 'by'
    ? UniqueKeys<UniqueWhere<D>> & keyof Scalars<D> & string
    : IntegerFields<Scalars<D>> & string
}

/**
 * The `models` option for the client `C`: model names as keys, each with its own fields. With the
 * client unknown (the extension made apart from `$extends`), any model and field names.
 */
export type ModelsOptions<C> = unknown extends C
  ? Readonly<Record<string, ModelLockOptions>>
  : { readonly [Name in keyof DelegatesByName<C>]?: ModelLockOptionsOf<DelegatesByName<C>[Name]> }
