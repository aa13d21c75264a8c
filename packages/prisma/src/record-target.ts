import { invalidArgument, invalidShape, recordLockName } from '@cachelock/core/adapter-kit'
import { checkFieldValue, fieldList, type ModelInfo } from './model-info.js'

/** One record a call names: how to read it, and which lock guards it. */
export interface RecordTarget {
  /** The unique where for `findUnique`, as the caller gave it (a bare value becomes `{ [by]: value }`). */
  readonly where: Readonly<Record<string, unknown>>
  /** The unique values, compound keys flattened: `{ orderId: 1, line: 2 }`. */
  readonly values: Readonly<Record<string, unknown>>
  /** The record lock's name: `orderItem:line+orderId:["2","1"]` (see `recordLockName`). */
  readonly name: string
}

/**
 * Turn what a caller passed into a target. Accepted:
 * - a bare value of the model's `by` field (`42`, `'A-1'`);
 * - a where with exactly one unique field (`{ sku: 'A-1' }`) or one compound unique
 *   (`{ orderId_line: { orderId: 1, line: 2 } }`).
 *
 * A where with extra conditions (`{ id: 1, status: 'new' }`) is refused: its lock name would
 * differ from the one every other caller makes for that row, and exclude nobody.
 */
export function resolveTarget(model: ModelInfo, target: unknown, argument: string): RecordTarget {
  if (isPlainObject(target)) return resolveWhere(model, target, argument)
  if (!model.by) {
    throw invalidArgument(
      argument,
      `a unique where of ${model.name} such as { field: value } (${model.name} has no unique \`id\` field: set \`models.${model.name}.by\` to lock it by a bare value)`,
      target,
    )
  }
  const value = checkFieldValue(model, model.by, target, argument)
  const values = { [model.by.name]: value }
  return { where: values, values, name: recordLockName(model.name, values, argument) }
}

function resolveWhere(model: ModelInfo, where: Record<string, unknown>, argument: string): RecordTarget {
  const keys = Object.keys(where)
  const expected = `one unique field or compound unique of ${model.name}, like { ${model.by?.name ?? 'field'}: value } (${fieldList(model.fields)})`
  if (keys.length !== 1)
    throw invalidShape(argument, expected, keys.length === 0 ? 'an empty object' : `an object with keys ${keys.join(', ')}`)
  const key = keys[0]!
  const field = model.fields.get(key)
  if (field) {
    if (model.isUnique([key]) === false) throw notUnique(model, argument, [key])
    const values = { [key]: checkFieldValue(model, field, where[key], `${argument}.${key}`) }
    return { where, values, name: recordLockName(model.name, values, argument) }
  }
  // Prisma names a compound unique `a_b` (or as @@unique's `name:` says) and nests its fields.
  const compound = where[key]
  if (!isPlainObject(compound) || Object.keys(compound).length < 2) {
    throw invalidShape(argument, expected, `an object with key ${JSON.stringify(key)}`)
  }
  const values: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(compound)) {
    const part = model.fields.get(name)
    if (!part)
      throw invalidShape(
        `${argument}.${key}`,
        `the fields of a compound unique of ${model.name} (${fieldList(model.fields)})`,
        `an object with key ${JSON.stringify(name)}`,
      )
    values[name] = checkFieldValue(model, part, value, `${argument}.${key}.${name}`)
  }
  if (model.isUnique(Object.keys(values)) === false) throw notUnique(model, `${argument}.${key}`, Object.keys(values))
  return { where, values, name: recordLockName(model.name, values, argument) }
}

// Prisma would refuse the where too, but only once the lock is taken: a lock by fields that are not
// a unique key would not name one row.
function notUnique(model: ModelInfo, argument: string, fields: readonly string[]) {
  return invalidShape(
    argument,
    `one unique field or compound unique of ${model.name} (its unique keys: ${model.uniqueKeys || 'none'})`,
    `${fields.join(' + ')}, which is not unique`,
  )
}

/** A plain `{}` object: not a Date, bytes, an array or a class instance (those are values). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}
