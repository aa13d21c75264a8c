import { describe, expect, test } from 'vitest'
import type { Lock } from '@cachelock/core'
import type { LockedRow } from '../src/lock-scope.js'
import type { FieldInfo, ModelInfo } from '../src/model-info.js'
import { pinnedValues, targetsRow } from '../src/row-match.js'

const field = (name: string): FieldInfo => ({ name, type: 'String', isEnum: false, isList: false })

/** `uniques`: the model's unique keys as the schema declares them; omitted, the schema is not known. */
function model(names: string[], by?: string, uniques?: string[][]): ModelInfo {
  const fields = new Map(names.map((name) => [name, field(name)]))
  const isUnique = (keys: readonly string[]) =>
    uniques?.some((unique) => unique.length === keys.length && unique.every((key) => keys.includes(key)))
  return { name: 'M', property: 'm', fields, by: by === undefined ? undefined : fields.get(by), fence: undefined, isUnique, uniqueKeys: '' }
}

function row(target: ModelInfo, values: Record<string, unknown>, record: Record<string, unknown> | null): LockedRow {
  return { model: target, lock: {} as Lock, values, record }
}

const pins = (entries: Record<string, unknown>) => new Map(Object.entries(entries))

describe('pinnedValues', () => {
  const item = model(['id', 'line', 'orderId', 'sku', 'total'], 'id')
  const known = model(['id', 'line', 'orderId', 'sku', 'total'], 'id', [['id'], ['line', 'orderId']])
  test.each<[string, unknown, Record<string, unknown>]>([
    ['a compound unique the schema declares', { ol: { orderId: 2, line: 1 } }, { line: 1, orderId: 2 }],
    ['a relation filter over fields that are no unique key', { order: { line: 1, sku: 'A' } }, {}],
  ])('schema known: %s', (_, where, expected) => {
    expect(pinnedValues(known, where)).toEqual(new Map(Object.entries(expected)))
  })
  test.each<[string, unknown, Record<string, unknown>]>([
    ['a plain value', { id: 1 }, { id: 1 }],
    ['{ equals }', { id: { equals: 1 } }, { id: 1 }],
    ['a filter pins nothing', { id: { gt: 1 } }, {}],
    ['AND as a list', { AND: [{ id: 1 }, { sku: 'A' }] }, { id: 1, sku: 'A' }],
    ['AND as one object', { AND: { id: 1 } }, { id: 1 }],
    ['a compound unique, flattened', { line_orderId: { line: 1, orderId: 2 } }, { line: 1, orderId: 2 }],
    ['a compound-looking key whose part is a filter', { line_orderId: { line: { gt: 1 }, orderId: 2 } }, {}],
    ['a compound-looking key naming a non-field', { line_other: { line: 1, other: 2 } }, {}],
    ['OR pins nothing', { OR: [{ id: 1 }] }, {}],
    ['a relation or unknown key given null or undefined', { order: null, items: undefined }, {}],
    ['NOT pins nothing', { NOT: { id: 1 } }, {}],
    ['NOT over two fields pins nothing', { NOT: { line: 1, orderId: 2 } }, {}],
    ['a relation filter pins nothing of this model', { order: { id: 5 } }, {}],
    ['null where', null, {}],
    ['a non-object where', 'id', {}],
  ])('%s', (_, where, expected) => {
    expect(pinnedValues(item, where)).toEqual(new Map(Object.entries(expected)))
  })
})

describe('targetsRow', () => {
  const byId = model(['id', 'sku', 'total', 'note'], 'id')
  const bySku = model(['id', 'sku', 'total', 'note'], 'sku')
  const noKey = model(['code', 'sku', 'note', 'undefined'])
  const record = { id: 1, sku: 'A', total: 5, note: null }

  test.each<[string, ModelInfo, LockedRow, Record<string, unknown>, boolean, boolean]>([
    ['nothing pinned never targets the row', byId, row(byId, { id: 1 }, record), {}, true, false],
    ['the values the lock was taken by', byId, row(byId, { id: 1 }, record), { id: 1 }, false, true],
    ['42 and 42n are one value', byId, row(byId, { id: 42n }, record), { id: 42 }, false, true],
    ['two Dates of one instant are one value', byId, row(byId, { id: new Date(0) }, null), { id: new Date(0) }, false, true],
    ['bytes compare by content', byId, row(byId, { id: new Uint8Array([1, 2]) }, null), { id: Buffer.from([1, 2]) }, false, true],
    ['a different value', byId, row(byId, { id: 1 }, record), { id: 2 }, false, false],
    ['a compound key: every part must agree', byId, row(byId, { sku: 'A', total: 5 }, null), { sku: 'A', total: 6 }, false, false],
    ['the `by` field of the row as read', bySku, row(bySku, { id: 1 }, record), { sku: 'A' }, false, true],
    ['`id` of the row as read, when locked by another field', bySku, row(bySku, { sku: 'A' }, record), { id: 1 }, false, true],
    [
      'a model without `by` or `id` takes no key from the record',
      noKey,
      row(noKey, { code: 'X' }, { code: 'X', undefined: 7 }),
      { undefined: 7 },
      false,
      false,
    ],
    ['a null column is no key', byId, row(byId, { sku: 'A' }, { sku: 'A', id: null }), { id: null }, false, false],
    ['a column the record lacks is no key', byId, row(byId, { sku: 'A' }, { sku: 'A' }), { id: undefined }, false, false],
    ['a unique write agreeing with the row as read', byId, row(byId, { id: 2 }, record), { sku: 'A', total: 5 }, true, true],
    ['…but not a many-write', byId, row(byId, { id: 2 }, record), { sku: 'A', total: 5 }, false, false],
    ['a unique write must agree on every value', byId, row(byId, { id: 2 }, record), { sku: 'A', total: 6 }, true, false],
    ['a unique write naming a column the row lacks', byId, row(byId, { id: 2 }, record), { sku: 'A', other: 1 }, true, false],
    ['a row locked before it existed has no record to agree with', byId, row(byId, { id: 2 }, null), { sku: 'A' }, true, false],
    ['null equals null', noKey, row(noKey, { code: 'X' }, { code: 'X', sku: 'A', note: null }), { sku: 'A', note: null }, true, true],
    ['null is not a value', noKey, row(noKey, { code: 'X' }, { code: 'X', sku: 'A', note: 'n' }), { sku: 'A', note: null }, true, false],
    ['a value is not null', noKey, row(noKey, { code: 'X' }, { code: 'X', sku: 'A', note: null }), { sku: 'A', note: 'n' }, true, false],
    [
      'a value with no lock-name encoding matches nothing',
      noKey,
      row(noKey, { code: 'X' }, { code: 'X', sku: 'A', note: { n: 1 } }),
      { sku: 'A', note: { n: 1 } },
      true,
      false,
    ],
  ])('%s', (_, target, locked, pinned, unique, expected) => {
    expect(targetsRow(target, locked, pins(pinned), unique)).toBe(expected)
  })
})
