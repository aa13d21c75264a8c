import { invalidArgument, invalidShape, modelLockName } from '@cachelock/core/adapter-kit'
import type { ModelLockOptions } from './options.js'
import { describeUniques, isUniqueKey, type SchemaUniques } from './schema-uniques.js'

/** One scalar field, as Prisma's field references (`db.order.fields.total`) describe it. */
export interface FieldInfo {
  readonly name: string
  /** Prisma's type name: `Int`, `String`, `DateTime`, ... or the enum's name. */
  readonly type: string
  readonly isEnum: boolean
  readonly isList: boolean
}

/** What the adapter knows about one model of the client. */
export interface ModelInfo {
  /** As in the schema: `OrderItem`. */
  readonly name: string
  /** The client property: `orderItem`. */
  readonly property: string
  readonly fields: ReadonlyMap<string, FieldInfo>
  /** The unique field a bare value names (`models.X.by`, else `id` when the model has one). */
  readonly by: FieldInfo | undefined
  /** The fence column (`models.X.fence`), an `Int` or `BigInt` field. */
  readonly fence: FieldInfo | undefined
  /** Whether these fields are exactly one unique key of the model; `undefined` when the schema is not known. */
  isUnique(fields: readonly string[]): boolean | undefined
  /** The model's unique keys for messages (`id, sku, (line, orderId)`). */
  readonly uniqueKeys: string
}

interface FieldRef {
  name?: unknown
  typeName?: unknown
  isEnum?: unknown
  isList?: unknown
}

/**
 * Describe a model from its delegate's `fields` (Prisma's public field references, which list
 * the scalar fields and their types), checking the model's settings against them. Prisma 7's
 * runtime data model does not say which fields are unique; `uniques` (read from the schema text
 * the client carries) does: a `by` that is not unique is refused here. `by` defaults to `id`.
 */
export function describeModel(
  name: string,
  delegate: unknown,
  settings: ModelLockOptions | undefined,
  uniques: SchemaUniques | undefined,
): ModelInfo {
  const refs = (delegate as { fields?: Record<string, FieldRef> } | undefined)?.fields
  if (typeof refs !== 'object' || refs === null)
    throw new TypeError(`Model ${name} has no field references (\`fields\`): Prisma 5 or later is required`)
  const fields = new Map<string, FieldInfo>()
  for (const key of Object.keys(refs)) {
    const ref = refs[key]!
    fields.set(key, { name: key, type: String(ref.typeName), isEnum: ref.isEnum === true, isList: ref.isList === true })
  }
  const argument = `options.models.${name}`
  const isUnique = (keys: readonly string[]) => isUniqueKey(uniques, name, keys)
  const uniqueKeys = describeUniques(uniques, name)
  // `id` when it is a unique field (or the schema is not known).
  let by = isUnique(['id']) === false ? undefined : fields.get('id')
  if (settings?.by !== undefined) {
    by = fields.get(settings.by)
    if (!by) throw invalidArgument(`${argument}.by`, `a scalar field of ${name} (${fieldList(fields)})`, settings.by)
    if (isUnique([by.name]) === false) {
      throw invalidShape(
        `${argument}.by`,
        `a unique field of ${name} (@id or @unique; its unique fields: ${uniqueKeys || 'none'})`,
        `${JSON.stringify(settings.by)}, which is not unique: a lock by it would not name one row`,
      )
    }
  }
  let fence: FieldInfo | undefined
  if (settings?.fence !== undefined) {
    fence = fields.get(settings.fence)
    if (!fence) throw invalidArgument(`${argument}.fence`, `an Int or BigInt field of ${name} (${fieldList(fields)})`, settings.fence)
    if ((fence.type !== 'Int' && fence.type !== 'BigInt') || fence.isList) {
      throw invalidArgument(`${argument}.fence`, `an Int or BigInt field (${name}.${fence.name} is ${fence.type})`, settings.fence)
    }
  }
  return { name, property: modelLockName(name), fields, by, fence, isUnique, uniqueKeys }
}

export function fieldList(fields: ReadonlyMap<string, FieldInfo>): string {
  return `fields: ${[...fields.keys()].join(', ')}`
}

/**
 * Check that `value` can be a value of `field` and return it. A value of the wrong kind would
 * otherwise make a lock name no other caller makes for that row (`"42"` for an Int id), and a lock
 * that excludes nobody.
 */
export function checkFieldValue(model: ModelInfo, field: FieldInfo, value: unknown, argument: string): unknown {
  const expected = expectedKind(field, value)
  if (expected !== undefined) throw invalidArgument(argument, `${expected} (${model.name}.${field.name} is ${field.type})`, value)
  return value
}

/** What `field` takes, when `value` is not that; undefined when it fits. */
function expectedKind(field: FieldInfo, value: unknown): string | undefined {
  if (field.isList) return 'a single value of a unique field, and a list field is never unique'
  if (field.isEnum) return typeof value === 'string' ? undefined : 'an enum value (a string)'
  switch (field.type) {
    case 'String':
      return typeof value === 'string' ? undefined : 'a string'
    case 'Int':
      return Number.isSafeInteger(value) ? undefined : 'an integer'
    case 'BigInt':
      return typeof value === 'bigint' || Number.isSafeInteger(value) ? undefined : 'a bigint or an integer'
    case 'Float':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'a finite number'
    case 'Decimal':
      // Names are made from the text: give a key one way (always a string, or always a number).
      return (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string' ? undefined : 'a number or a decimal string'
    case 'Boolean':
      return typeof value === 'boolean' ? undefined : 'a boolean'
    case 'DateTime':
      return value instanceof Date && !Number.isNaN(value.getTime()) ? undefined : 'a valid Date'
    case 'Bytes':
      return value instanceof Uint8Array ? undefined : 'bytes (a Uint8Array or Buffer)'
    default:
      return `a value that can name a row (${field.type} cannot)`
  }
}
