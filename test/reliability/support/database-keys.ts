import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import pg from 'pg'

/** Whether `url` names one of the database stores. */
export function isDatabaseUrl(url: string): boolean {
  return /^(postgres(ql)?|mysql|sqlite):/i.test(url)
}

/**
 * Every key the default locks table of the database at `url` holds under `prefix`, read with the
 * database's own client, not through the library. Keys come back as their bytes in latin1, one
 * character per byte, so keys that differ only in bytes a UTF-8 decoder would merge (lone
 * surrogates) stay distinct. Opens and closes its own connection.
 */
export async function databaseKeys(url: string, prefix: string): Promise<string[]> {
  const bytes = Buffer.from(prefix, 'utf8')
  let keys: Buffer[]
  if (url.startsWith('sqlite:')) {
    const database = new Database(decodeURIComponent(url.slice('sqlite://'.length)), { readonly: true, fileMustExist: true })
    try {
      const rows = database.prepare('SELECT key FROM cachelock_locks WHERE substr(key, 1, ?) = ?').all(bytes.length, bytes) as {
        key: Buffer
      }[]
      keys = rows.map((row) => row.key)
    } finally {
      database.close()
    }
  } else if (url.startsWith('mysql:')) {
    const connection = await mysql.createConnection({ uri: url })
    try {
      const [rows] = await connection.query('SELECT `key` FROM cachelock_locks WHERE LEFT(`key`, ?) = ?', [bytes.length, bytes])
      keys = (rows as { key: Buffer }[]).map((row) => row.key)
    } finally {
      await connection.end()
    }
  } else {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const { rows } = await client.query<{ key: string }>('SELECT key FROM cachelock_locks WHERE starts_with(key, $1)', [prefix])
      keys = rows.map((row) => Buffer.from(row.key, 'utf8'))
    } finally {
      await client.end()
    }
  }
  return keys.map((key) => key.toString('latin1')).sort()
}
