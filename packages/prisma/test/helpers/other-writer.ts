import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import pg from 'pg'

/**
 * A writer in "another process": its own connection to the test database, on a thread of its own.
 * On SQLite it must be a thread: better-sqlite3 waits for a locked database synchronously, which
 * would freeze this thread (and every timer of the lock under test) as a second connection here.
 */
export interface OtherWriter {
  /** Run one statement (`?` placeholders); resolves once it has committed. */
  run(sql: string, params: readonly unknown[]): Promise<void>
  close(): Promise<void>
}

export function sqliteWriter(file: string): OtherWriter {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads')
     const Database = require(workerData.driver)
     const db = new Database(workerData.file, { timeout: 60000 })
     parentPort.on('message', ({ sql, params }) => {
       try { db.prepare(sql).run(...params); parentPort.postMessage({ ok: true }) }
       catch (error) { parentPort.postMessage({ ok: false, message: String(error) }) }
     })`,
    { eval: true, workerData: { file, driver: createRequire(import.meta.url).resolve('better-sqlite3') } },
  )
  let queue = Promise.resolve()
  return {
    run: (sql, params) =>
      (queue = queue.then(
        () =>
          new Promise<void>((resolve, reject) => {
            worker.once('message', (reply: { ok: boolean; message?: string }) => (reply.ok ? resolve() : reject(new Error(reply.message))))
            worker.postMessage({ sql, params })
          }),
      )),
    close: async () => void (await worker.terminate()),
  }
}

export function postgresWriter(url: string, schema: string): OtherWriter {
  const client = new pg.Client({ connectionString: url })
  const connected = client.connect().then(() => client.query(`SET search_path TO "${schema}"`))
  return {
    run: async (sql, params) => {
      await connected
      let n = 0
      await client.query(
        sql.replace(/\?/g, () => `$${++n}`),
        [...params],
      )
    },
    close: () => client.end(),
  }
}
