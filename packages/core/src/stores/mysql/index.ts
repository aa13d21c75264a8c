export { MysqlStore } from './mysql-store.js'
export type { MysqlStoreOptions } from './options.js'
export { mysqlStoreFromUrl, type MysqlStoreFromUrlOptions } from './from-url.js'
export type { MysqlPoolLike, MysqlQueryable, MysqlResultHeader } from './client.js'
