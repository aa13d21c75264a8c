/**
 * Which fields of each model are unique, as the schema says. Prisma 7's runtime data model lists
 * a model's fields and their types but not its `@id`, `@unique`, `@@id` or `@@unique`; the
 * generated client does carry the schema's text (the engine configuration's `inlineSchema`), and
 * these are read from there, so a lock by a field that is not unique (it would not name one row)
 * is refused when the extension is applied rather than by Prisma at the first lock.
 */

/** Per model name: its unique keys, each the sorted names of its fields (`[['id'], ['line', 'orderId']]`). */
export type SchemaUniques = ReadonlyMap<string, readonly (readonly string[])[]>

/** The unique keys of every model of `client`'s schema, or `undefined` when the client carries no schema text. */
export function schemaUniques(client: unknown): SchemaUniques | undefined {
  let text: unknown
  try {
    text = (client as { _engineConfig?: { inlineSchema?: unknown } } | null)?._engineConfig?.inlineSchema
  } catch {
    return undefined
  }
  return typeof text === 'string' && text.length > 0 ? parseUniques(text) : undefined
}

/** Whether `fields` (in any order) are exactly one unique key of `model`; `undefined` when not known. */
export function isUniqueKey(uniques: SchemaUniques | undefined, model: string, fields: readonly string[]): boolean | undefined {
  const keys = uniques?.get(model)
  if (!keys) return undefined
  const wanted = [...fields].sort().join('\0')
  return keys.some((key) => key.join('\0') === wanted)
}

/** The unique keys of a model for messages: `id, sku, (orderId, line)`. */
export function describeUniques(uniques: SchemaUniques | undefined, model: string): string {
  return (uniques?.get(model) ?? []).map((key) => (key.length === 1 ? key[0]! : `(${key.join(', ')})`)).join(', ')
}

export function parseUniques(schema: string): SchemaUniques {
  const models = new Map<string, string[][]>()
  const text = withoutComments(schema)
  const block = /\bmodel\s+(\w+)\s*\{/g
  for (let match = block.exec(text); match; match = block.exec(text)) {
    const body = text.slice(block.lastIndex, closingBrace(text, block.lastIndex))
    const keys: string[][] = []
    for (const line of body.split('\n').map((l) => l.trim())) {
      if (line.startsWith('@@id') || line.startsWith('@@unique')) {
        const fields = fieldList(line)
        if (fields.length > 0) keys.push(fields.sort())
      } else if (/^\w+\s/.test(line) && /(^|\s)@(id|unique)\b/.test(outsideStrings(line))) {
        keys.push([line.split(/\s/, 1)[0]!])
      }
    }
    models.set(match[1]!, keys)
  }
  return models
}

/** The field names of `@@id([a, b])`, `@@unique(fields: [a, b(sort: Desc)], name: "x")`. */
function fieldList(attribute: string): string[] {
  let list = /\[([^\]]*)\]/.exec(outsideStrings(attribute))?.[1] ?? ''
  // Drop per-field arguments (`b(sort: Desc)`, `title(length: 10)`).
  for (let previous = ''; previous !== list;) [previous, list] = [list, list.replace(/\([^()]*\)/g, '')]
  return list
    .split(',')
    .map((name) => name.trim())
    .filter((name) => /^\w+$/.test(name))
}

/** The index just past the `}` closing a block whose body starts at `start` (strings skipped). */
function closingBrace(text: string, start: number): number {
  let depth = 1
  for (let i = start; i < text.length; i++) {
    const c = text[i]
    if (c === '"') i = stringEnd(text, i)
    else if (c === '{') depth++
    else if (c === '}' && --depth === 0) return i
  }
  return text.length
}

/** `//` comments removed (also `///` doc comments), strings left intact. */
function withoutComments(text: string): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      const end = stringEnd(text, i)
      out += text.slice(i, end + 1)
      i = end
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++
      out += '\n'
    } else out += c
  }
  return out
}

/** A line with its string literals emptied, so an `@id` inside a default value is not an attribute. */
function outsideStrings(line: string): string {
  return line.replace(/"(?:[^"\\]|\\.)*"/g, '""')
}

/** The index of the `"` closing the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '"') return i
  }
  return text.length
}
