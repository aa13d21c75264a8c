import { invalid } from '../../validate.js'

const EXPECTED = 'a MySQL URL: mysql://[user[:password]@]host[:port]/database[?options]'

/**
 * `url` as text when it has the shape of a MySQL URL (one database at most). Throws
 * `InvalidLockArgumentError` naming `url` otherwise. Apart from the store, so that `createStore()`
 * refuses a bad URL before it loads the store's module.
 */
export function checkMysqlUrl(url: unknown): string {
  const href = typeof url === 'string' ? url : url instanceof URL ? url.href : undefined
  if (href === undefined || !/^mysql:\/\/[^/?#]*(\/[^/?#]*)?([?#].*)?$/i.test(href)) throw invalid('url', EXPECTED, url)
  return href
}
