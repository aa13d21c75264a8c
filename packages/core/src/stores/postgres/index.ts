export { PostgresStore } from './postgres-store.js'
export type { PostgresStoreOptions } from './options.js'
export { postgresStoreFromUrl, type PostgresStoreFromUrlOptions } from './from-url.js'
export type { PgListenClient, PgNotification, PgPoolLike, PgQueryable, PgResult } from './client.js'
