export { MysqlStore, type MysqlStoreOptions } from './mysql-store.js'
export { mysqlStoreFromUrl, type MysqlStoreFromUrlOptions } from './from-url.js'
export type { MysqlPoolLike, MysqlQueryable, MysqlResultHeader } from './client.js'
