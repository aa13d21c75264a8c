export { PostgresStore, type PostgresStoreOptions } from './postgres-store.js'
export { postgresStoreFromUrl, type PostgresStoreFromUrlOptions } from './from-url.js'
export type { PgListenClient, PgNotification, PgPoolLike, PgQueryable, PgResult } from './client.js'
