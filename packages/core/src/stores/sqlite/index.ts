export { SqliteStore } from './sqlite-store.js'
export type { SqliteStoreOptions } from './options.js'
export { sqliteStoreFromUrl, type SqliteStoreFromUrlOptions } from './from-url.js'
export type { SqliteDatabase, SqliteStatement } from './client.js'
