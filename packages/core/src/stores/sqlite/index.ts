export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js'
export { sqliteStoreFromUrl, type SqliteStoreFromUrlOptions } from './from-url.js'
export type { SqliteDatabase, SqliteStatement } from './client.js'
