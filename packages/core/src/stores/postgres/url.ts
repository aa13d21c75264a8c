import { invalid } from '../../validate.js'

const EXPECTED = 'a PostgreSQL URL: postgres[ql]://[user[:password]@]host[:port]/database[?options]'

/**
 * `url` as text when it has the shape of a PostgreSQL URL (`postgres://` or `postgresql://`, one
 * database at most). Throws `InvalidLockArgumentError` naming `url` otherwise. Apart from the store,
 * so that `createStore()` refuses a bad URL before it loads the store's module.
 */
export function checkPostgresUrl(url: unknown): string {
  const href = typeof url === 'string' ? url : url instanceof URL ? url.href : undefined
  if (href === undefined || !/^postgres(ql)?:\/\/[^/?#]*(\/[^/?#]*)?([?#].*)?$/i.test(href)) throw invalid('url', EXPECTED, url)
  return href
}
