import { isAbsolute } from 'node:path'
import { invalid } from '../../validate.js'

const EXPECTED = 'a SQLite URL with an absolute path: sqlite:///absolute/path/to/locks.db'

/**
 * The database file a `sqlite:///absolute/path` URL names (three slashes, then the absolute path;
 * percent-escapes decoded). Throws `InvalidLockArgumentError` naming `url` otherwise. Apart from
 * the store, so that `createStore()` refuses a bad URL before it loads the store's module.
 */
export function sqliteUrlPath(url: unknown): string {
  const href = typeof url === 'string' ? url : url instanceof URL ? url.href : undefined
  const match = href === undefined ? null : /^sqlite:\/\/(\/[^?#]*)$/i.exec(href)
  let path: string | undefined
  try {
    path = match ? decodeURIComponent(match[1]!) : undefined
  } catch {
    path = undefined
  }
  if (path === undefined || !isAbsolute(path) || path.endsWith('/') || path.includes('\u0000')) throw invalid('url', EXPECTED, url)
  return path
}
