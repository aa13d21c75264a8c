import { readFileSync } from 'node:fs'
import Database from 'better-sqlite3'

const schema = readFileSync(new URL('./schema.sql', import.meta.url), 'utf8')

/**
 * Create the tables and the demo products if they are missing. Idempotent, and safe when several
 * instances start at once (SQLite serialises the statements), unlike TypeORM's `synchronize`.
 */
export function prepareDatabase(file: string): void {
  const db = new Database(file, { timeout: 5000 })
  try {
    db.pragma('journal_mode = WAL')
    db.exec(schema)
  } finally {
    db.close()
  }
}
