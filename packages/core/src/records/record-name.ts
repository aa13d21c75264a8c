import { invalid } from '../validate.js'

/**
 * Lock names for database rows, shared by the Prisma and TypeORM adapters and by anyone who wants
 * a plain core lock on the same row: `model:field:value`, e.g. `order:id:42`, `product:sku:A-1`.
 *
 * - `model` is the model's client name: the first letter lowercased (`Order` → `order`,
 *   `OrderItem` → `orderItem`), as Prisma's client and TypeORM's entity names give it.
 * - One field: `model:field:value`. Several fields (a compound unique), sorted by field name:
 *   `model:a+b:["1","x"]` (the encoded values as a JSON array, so a value containing `+`, `:` or `,`
 *   can never be confused with another).
 * - Values: strings as they are; numbers and bigints in decimal (`42`, `-0` → `0`); booleans
 *   `true`/`false`; `Date` as ISO 8601; bytes (`Uint8Array`/`Buffer`) as `0x` + hex. Anything else
 *   (null, undefined, objects, NaN) is refused with `InvalidLockArgumentError`.
 *
 * A field has one type, so `42` and `"42"` naming the same key is never ambiguous in practice.
 */
export function recordLockName(model: string, where: Readonly<Record<string, unknown>>, argument = 'where'): string {
  if (typeof model !== 'string' || model === '') throw invalid('model', 'a non-empty model name', model)
  if (typeof where !== 'object' || where === null || Array.isArray(where))
    throw invalid(argument, 'an object of unique field values', where)
  const fields = Object.keys(where).sort()
  if (fields.length === 0) throw invalid(argument, 'at least one unique field', where)
  const prefix = modelLockName(model)
  if (fields.length === 1) {
    const field = fields[0]!
    return `${prefix}:${field}:${encodeRecordValue(where[field], `${argument}.${field}`)}`
  }
  const values = fields.map((field) => encodeRecordValue(where[field], `${argument}.${field}`))
  return `${prefix}:${fields.join('+')}:${JSON.stringify(values)}`
}

/** A model's name as it appears in lock names: first letter lowercased (`OrderItem` → `orderItem`). */
export function modelLockName(model: string): string {
  if (typeof model !== 'string' || model === '') throw invalid('model', 'a non-empty model name', model)
  return model.charAt(0).toLowerCase() + model.slice(1)
}

/** One unique value in a lock name (see `recordLockName`). */
export function encodeRecordValue(value: unknown, argument = 'value'): string {
  switch (typeof value) {
    case 'string':
      return value
    case 'number':
      if (!Number.isFinite(value)) throw invalid(argument, 'a finite number, string, bigint, boolean, Date or bytes', value)
      return String(value === 0 ? 0 : value)
    case 'bigint':
      return value.toString()
    case 'boolean':
      return String(value)
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalid(argument, 'a valid Date', 'an invalid Date')
    return value.toISOString()
  }
  if (value instanceof Uint8Array) return `0x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`
  throw invalid(argument, 'a string, number, bigint, boolean, Date or bytes', value)
}
