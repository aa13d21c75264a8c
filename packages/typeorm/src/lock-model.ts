import { checkOptions as checkKnownOptions, invalidArgument } from '@cachelock/core/adapter-kit'
import { registry, type Class, type LockModelConfig } from './registry.js'

/** Options of `@LockModel`. */
export interface LockModelOptions {
  /**
   * Reject a save, update, remove, soft-remove or recover of this entity while another flow holds
   * its row's lock (with `LockedRowError`, nothing written). `false` turns the guard off for this
   * entity; its locks still work.
   * @default true
   */
  guard?: boolean
  /**
   * The property of an integer column (use `bigint`: tokens can exceed 2^31) that fences writes.
   * `withLock` and `lock()` claim the row before it is read, and every write to the locked row
   * claims it again in the write's transaction:
   * `UPDATE … SET fence = token WHERE <row> AND (fence IS NULL OR fence <= token)`. A holder that
   * lost its lock to a newer one then writes nothing and gets `LockLostError`, so a
   * read-modify-write loses no update to it. A save or remove of this entity made without the lock
   * is checked against the fence value the entity was loaded with (`StaleEntityError`).
   * @default undefined (no fencing)
   * @example @LockModel('sku', { fence: 'lockFence' })
   */
  fence?: string
  /**
   * The model part of lock names, before its first letter is lowercased. Set it when the class
   * name differs from the model name other services use (a Prisma model, a minified build).
   * @default the decorated class's name
   * @example @LockModel('sku', { model: 'Product' }) // product:sku:A-1
   */
  model?: string
}

const optionNames = new Set(['guard', 'fence', 'model'])

/** The property names `field` gives: itself, or each of an array's. */
type FieldNames<Field> = Field extends readonly string[] ? Field[number] : Field

/**
 * Mark an entity as lockable per row. `field` names the unique property that identifies a row in
 * lock names (`product:sku:A-1`); several properties for a compound unique; none for the primary key.
 *
 * ```ts
 * @Entity() @LockModel('sku') class Product { ... }
 * @Entity() @LockModel() class Order { ... }                    // order:id:42
 * @Entity() @LockModel(['tenantId', 'sku']) class Item { ... }  // item:sku+tenantId:["A-1","t1"]
 * ```
 *
 * Works with `experimentalDecorators` (TypeORM's mode, with or without `emitDecoratorMetadata`),
 * with standard decorators, and applied by hand in plain JavaScript: `LockModel('sku')(Product)`.
 * The field is checked against the entity's metadata when the data source is installed (or, before
 * that, on first use): a property that is not a unique column is an error naming both. In
 * TypeScript, a field (or `fence`) the class does not have is already a type error on the decorator.
 */
export function LockModel<const Field extends string | readonly string[] = never, const Fence extends string = never>(
  field?: Field,
  options?: LockModelOptions & { fence?: Fence },
): <Target extends Class<Record<FieldNames<Field> | Fence, unknown>>>(target: Target, context?: unknown) => void {
  const fields = checkFields(field)
  const { guard, fence, model } = checkOptions(options)
  return (target: Class, context?: unknown) => {
    if (typeof target !== 'function') throw invalidArgument('@LockModel', 'applied to a class', target)
    if (isStandardContext(context) && context.kind !== 'class') throw invalidArgument('@LockModel', 'applied to a class', context.kind)
    const config: LockModelConfig = Object.freeze({ fields, guard, fence, model, target })
    registry.models.set(target, config)
  }
}

function checkFields(field: unknown): readonly string[] | undefined {
  if (field === undefined) return undefined
  if (typeof field === 'string') {
    if (field === '') throw invalidArgument('field', 'a property name', field)
    return Object.freeze([field])
  }
  if (!Array.isArray(field) || field.length === 0) throw invalidArgument('field', 'a property name or a non-empty array of them', field)
  field.forEach((name, i) => {
    if (typeof name !== 'string' || name === '') throw invalidArgument(`field[${i}]`, 'a property name', name)
  })
  if (new Set(field).size !== field.length) throw invalidArgument('field', 'distinct property names', field)
  return Object.freeze([...(field as string[])])
}

function checkOptions(options: unknown): { guard: boolean; fence: string | undefined; model: string | undefined } {
  if (options === undefined) return { guard: true, fence: undefined, model: undefined }
  checkKnownOptions(options, 'options', optionNames)
  const { guard = true, fence, model } = options as LockModelOptions
  if (typeof guard !== 'boolean') throw invalidArgument('options.guard', 'a boolean', guard)
  if (fence !== undefined && (typeof fence !== 'string' || fence === '')) throw invalidArgument('options.fence', 'a property name', fence)
  if (model !== undefined && (typeof model !== 'string' || model === ''))
    throw invalidArgument('options.model', 'a non-empty model name', model)
  return { guard, fence, model }
}

function isStandardContext(value: unknown): value is { kind: string } {
  return typeof value === 'object' && value !== null && 'kind' in value
}
