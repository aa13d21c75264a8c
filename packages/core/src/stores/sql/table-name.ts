import { invalid } from '../../validate.js'

/** The table every database store uses unless told otherwise. */
export const DEFAULT_TABLE = 'cachelock_locks'

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/**
 * A table name option, checked and quoted for SQL text: `name` or `schema.name`, each part a plain
 * identifier (letters, digits, `_`, at most 63 characters: what every one of the three databases
 * accepts unquoted). Anything else is refused rather than escaped, because the name is spliced
 * into statements that are built once per store.
 *
 * @param quote the database's identifier quote: `"` (PostgreSQL, SQLite) or a backtick (MySQL).
 */
export function quotedTable(value: unknown, argument: string, quote: '"' | '`'): string {
  const parts = typeof value === 'string' ? value.split('.') : []
  if (parts.length === 0 || parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw invalid(argument, 'a table name: `name` or `schema.name`, each of letters, digits and _ (not starting with a digit)', value)
  }
  return parts.map((part) => `${quote}${part}${quote}`).join('.')
}

/** The last part of a table name (`app.locks` → `locks`): the base for names derived from it (channels, indexes). */
export function baseName(table: string): string {
  return table.slice(table.lastIndexOf('.') + 1)
}
