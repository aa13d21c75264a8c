import { InvalidLockArgumentError } from '@cachelock/core'
import { describeValue, invalidShape, recordLockName } from '@cachelock/core/adapter-kit'
import type { EntityMetadata, ObjectLiteral } from 'typeorm'
import { lockModelConfig } from './registry.js'

/** A column's metadata (TypeORM does not export the class from its entry point). */
export type ColumnMetadata = EntityMetadata['columns'][number]

/**
 * How one entity is locked, resolved from its `@LockModel` config (or, undecorated, its primary
 * key) and checked against its TypeORM metadata: the lock fields, the fence column, the guard.
 */
export interface ModelLock {
  readonly metadata: EntityMetadata
  /** The entity's name for messages (`Product`). */
  readonly entity: string
  /** The model part of lock names before lowercasing (`Product` → `product:…`). */
  readonly model: string
  readonly fields: readonly ColumnMetadata[]
  /** Whether the entity carries `@LockModel` (only those are guarded and fenced). */
  readonly decorated: boolean
  readonly guard: boolean
  readonly fence: ColumnMetadata | undefined
}

const resolved = new WeakMap<EntityMetadata, ModelLock>()

/**
 * The `ModelLock` of an entity. Throws `InvalidLockArgumentError` naming the field and the entity
 * when `@LockModel` names a property that is not a unique column, or a fence that is not an
 * integer column. Checked once per metadata.
 */
export function modelLockOf(metadata: EntityMetadata): ModelLock {
  let model = resolved.get(metadata)
  if (!model) resolved.set(metadata, (model = resolve(metadata)))
  return model
}

function resolve(metadata: EntityMetadata): ModelLock {
  const config = lockModelConfig(metadata.target)
  const entity = metadata.targetName || metadata.name
  const decorator = `@LockModel(${config?.fields ? config.fields.map((f) => `'${f}'`).join(', ') : ''})`
  const fields = config?.fields ? config.fields.map((name) => lockColumn(metadata, name, entity, decorator)) : metadata.primaryColumns
  if (fields.length === 0)
    throw new InvalidLockArgumentError('entity', `${entity} has no primary column to lock by; name a unique field with @LockModel(field)`)
  if (config?.fields && !isUnique(metadata, fields)) {
    throw new InvalidLockArgumentError(
      '@LockModel field',
      `${decorator} on ${entity}: ${config.fields.join(' + ')} is not unique (not the primary key, a unique column or a unique index), so a lock by it would not name one row`,
    )
  }
  const fence = config?.fence === undefined ? undefined : fenceColumn(metadata, config.fence, entity, fields)
  return {
    metadata,
    entity,
    model: config ? (config.model ?? config.target.name) : entity,
    fields,
    decorated: config !== undefined,
    guard: config?.guard ?? false,
    fence,
  }
}

function lockColumn(metadata: EntityMetadata, name: string, entity: string, decorator: string): ColumnMetadata {
  const column = metadata.columns.find((c) => c.propertyName === name && !c.embeddedMetadata)
  if (!column) {
    const known = metadata.columns.filter((c) => !c.embeddedMetadata).map((c) => c.propertyName)
    throw new InvalidLockArgumentError(
      '@LockModel field',
      `${decorator} on ${entity}: ${entity} has no column property \`${name}\` (its columns: ${known.join(', ')})`,
    )
  }
  if (column.relationMetadata) {
    throw new InvalidLockArgumentError(
      '@LockModel field',
      `${decorator} on ${entity}: \`${name}\` is a relation's join column; lock by a plain column`,
    )
  }
  return column
}

function fenceColumn(metadata: EntityMetadata, name: string, entity: string, fields: readonly ColumnMetadata[]): ColumnMetadata {
  const column = metadata.columns.find((c) => c.propertyName === name && !c.embeddedMetadata)
  const where = `@LockModel(…, { fence: '${name}' }) on ${entity}`
  if (!column)
    throw new InvalidLockArgumentError(
      'options.fence',
      `${where}: ${entity} has no column property \`${name}\`; add one, e.g. @Column({ type: 'bigint', default: 0 }) ${name}`,
    )
  if (fields.includes(column) || column.isPrimary)
    throw new InvalidLockArgumentError('options.fence', `${where}: the fence must be a column of its own, not a key`)
  if (!isNumericType(column.type)) {
    throw new InvalidLockArgumentError(
      'options.fence',
      `${where}: the fence column must be an integer column (bigint recommended), got type ${String((column.type as { name?: string }).name ?? column.type)}`,
    )
  }
  return column
}

function isNumericType(type: unknown): boolean {
  if (type === Number || type === BigInt) return true
  return typeof type === 'string' && /int|number|numeric|decimal|double|float|real/i.test(type)
}

function isUnique(metadata: EntityMetadata, fields: readonly ColumnMetadata[]): boolean {
  const same = (columns: readonly ColumnMetadata[]) => columns.length === fields.length && columns.every((c) => fields.includes(c))
  return (
    same(metadata.primaryColumns) ||
    metadata.uniques.some((unique) => same(unique.columns)) ||
    metadata.indices.some((index) => index.isUnique && !index.where && same(index.columns))
  )
}

/**
 * A `where` as callers give it: an object of the lock fields, or, for a one-field lock, its value.
 * Values are as the entity holds them (a value object, for a column with a transformer); the
 * `where` is also what the row is read by, and TypeORM's find transforms it itself.
 */
export function lockWhere(model: ModelLock, input: unknown, argument: string): ObjectLiteral {
  const names = model.fields.map((c) => c.propertyName)
  if (isScalar(input) || (names.length === 1 && isValueObject(model.fields[0]!, input))) {
    if (names.length > 1) throw whereError(model, argument, input, names)
    return { [names[0]!]: input }
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw whereError(model, argument, input, names)
  const keys = Object.keys(input)
  if (keys.length !== names.length || !names.every((name) => keys.includes(name))) throw whereError(model, argument, input, names)
  return input
}

/** The wheres `entityWhere` read off an entity (for `lockName`'s message). */
const fromEntity = new WeakSet<ObjectLiteral>()

/**
 * The lock name of a `where` (from `lockWhere` or `entityWhere`): `model:field:value`, as
 * `recordLockName` makes it, from the values the columns store (after their transformers, as
 * TypeORM writes and finds them). So a value object and the row the guard reads name one lock, and
 * a normalising transformer (lowercasing) cannot give one row two names. A value that still names
 * no row (an object no transformer stores as a scalar) is refused with `InvalidLockArgumentError`;
 * read off an entity, the message names the entity and field. The guard then refuses the write
 * rather than leave it unchecked.
 */
export function lockName(model: ModelLock, where: ObjectLiteral, argument: string): string {
  const stored: ObjectLiteral = {}
  for (const column of model.fields) {
    const field = column.propertyName
    const value: unknown = where[field]
    stored[field] = storedValue(column, value)
    if (value === undefined || value === null || isScalar(stored[field])) continue
    const at = `${argument}.${field}`
    if (column.transformer) {
      throw invalidShape(
        at,
        `a ${model.entity}.${field} value its transformer stores as a ${NAMEABLE}`,
        `${describeValue(value)}, stored as ${describeValue(stored[field])}`,
      )
    }
    // Read off an entity, the value is the model's doing (a column type that names no lock), not a
    // caller's typo: say which entity and field. A caller's where keeps the plain message below.
    if (fromEntity.has(where)) {
      throw invalidShape(
        at,
        `a ${NAMEABLE} (${model.entity}.${field} names the row's lock, and has no transformer to store other values as one)`,
        describeValue(value),
      )
    }
  }
  // An unset value, NaN or an invalid Date is refused there, as for any record lock name.
  return recordLockName(model.model, stored, argument)
}

/**
 * The lock where of an entity object (or values being inserted), or `undefined` when a field is
 * unset. The values are the entity's own (its value objects too): `lockName` stores them.
 */
export function entityWhere(model: ModelLock, entity: ObjectLiteral | undefined): ObjectLiteral | undefined {
  if (!entity) return undefined
  const where: ObjectLiteral = {}
  for (const column of model.fields) {
    const value: unknown = column.getEntityValue(entity)
    if (value === undefined || value === null) return undefined
    where[column.propertyName] = value
  }
  fromEntity.add(where)
  return where
}

const NAMEABLE = 'string, number, bigint, boolean, Date or bytes'

/**
 * The value a column stores for `value`: its transformer's `to` (an array of them in turn), by
 * TypeORM's own `getEntityValue(…, true)`, which its finds and writes use. An unset value is left
 * as it is, for the usual refusal (a transformer may not expect it).
 */
function storedValue(column: ColumnMetadata, value: unknown): unknown {
  if (!column.transformer || value === undefined || value === null) return value
  const holder = column.embeddedMetadata ? column.createValueMap(value) : { [column.propertyName]: value }
  return column.getEntityValue(holder, true)
}

function isScalar(value: unknown): boolean {
  return ['string', 'number', 'bigint', 'boolean'].includes(typeof value) || value instanceof Date || value instanceof Uint8Array
}

/** A value object for a transformer column (`new Sku('A-1')`): an object, but not a plain `{ … }` where. */
function isValueObject(column: ColumnMetadata, input: unknown): boolean {
  if (!column.transformer || typeof input !== 'object' || input === null || Array.isArray(input)) return false
  const prototype: unknown = Object.getPrototypeOf(input)
  return prototype !== Object.prototype && prototype !== null
}

function whereError(model: ModelLock, argument: string, input: unknown, names: readonly string[]): InvalidLockArgumentError {
  const shown =
    typeof input === 'object' && input !== null && !Array.isArray(input) ? `{ ${Object.keys(input).join(', ')} }` : describeValue(input)
  const scalar = names.length === 1 ? ` or the ${names[0]} value itself` : ''
  return invalidShape(argument, `{ ${names.join(', ')} } (how ${model.entity} rows are locked)${scalar}`, shown)
}
