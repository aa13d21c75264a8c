import { encodeRecordValue } from '@cachelock/core/adapter-kit'
import type { LockedRow } from './lock-scope.js'
import type { ModelInfo } from './model-info.js'
import { isPlainObject } from './record-target.js'

/**
 * The `field = value` conditions a where (or a create's data) pins down: plain values and
 * `{ equals }` on scalar fields, compound uniques (`{ a_b: { a, b } }`) flattened, `AND` followed.
 * Filters (`{ gt: 1 }`), `OR`, `NOT` and relation filters pin nothing.
 */
export function pinnedValues(model: ModelInfo, where: unknown, into = new Map<string, unknown>()): Map<string, unknown> {
  if (!isPlainObject(where)) return into
  for (const [key, value] of Object.entries(where)) {
    if (key === 'AND') {
      for (const part of Array.isArray(value) ? value : [value]) pinnedValues(model, part, into)
    } else if (model.fields.has(key)) {
      if (!isPlainObject(value)) into.set(key, value)
      else if ('equals' in value) into.set(key, value.equals)
    } else if (key !== 'NOT' && isCompoundKey(model, value)) {
      for (const [field, part] of Object.entries(value)) into.set(field, part)
    }
  }
  return into
}

/**
 * A compound unique's value: two or more of this model's scalar fields, each a plain value. Its key
 * is the compound's name, which may be custom (`@@unique(..., name: "ca")`), so the shape decides;
 * `{ NOT: { id } }` and a relation filter (`{ order: { id } }`) have that shape too but exclude or
 * name other rows, and must not make a write look like one to the locked row.
 */
function isCompoundKey(model: ModelInfo, value: unknown): value is Record<string, unknown> {
  if (!isPlainObject(value)) return false
  const fields = Object.keys(value)
  return (
    fields.length >= 2 &&
    fields.every((field) => model.fields.has(field) && !isPlainObject(value[field])) &&
    model.isUnique(fields) !== false
  )
}

/**
 * Whether a write with these pinned values targets the locked row. It does when it names the row by
 * a key known to be unique: the values the lock was taken by, the model's `by` field, or `id`.
 * A unique write (`update`, `delete`, `upsert`) also does when every value it pins agrees with the
 * row as read: Prisma requires its where to contain a unique field, so that field is among them.
 */
export function targetsRow(model: ModelInfo, row: LockedRow, pinned: ReadonlyMap<string, unknown>, unique: boolean): boolean {
  if (pinned.size === 0) return false
  const pins = (key: Readonly<Record<string, unknown>>) =>
    Object.entries(key).every(([field, value]) => pinned.has(field) && same(pinned.get(field), value))
  if (rowKeys(model, row).some(pins)) return true
  const record = row.record
  return unique && record !== null && [...pinned].every(([field, value]) => field in record && same(record[field], value))
}

function rowKeys(model: ModelInfo, row: LockedRow): Readonly<Record<string, unknown>>[] {
  const keys = [row.values]
  if (row.record) {
    for (const field of new Set([model.by?.name, model.fields.has('id') ? 'id' : undefined])) {
      if (field !== undefined && row.record[field] !== undefined && row.record[field] !== null) keys.push({ [field]: row.record[field] })
    }
  }
  return keys
}

// Equal as lock-name values are (42 and 42n, two Dates of one instant); null only equals null.
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true
  // null, undefined and values with no encoding (a Decimal, Json) throw: they equal nothing else.
  try {
    return encodeRecordValue(a) === encodeRecordValue(b)
  } catch {
    return false
  }
}
