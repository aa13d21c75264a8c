import { createRequire } from 'node:module'
import { LockError } from '../errors.js'

/**
 * Load an optional peer dependency (ioredis, memjs) when a store URL first needs it, never at
 * import time, so apps that use another store do not install it. Resolved from this package,
 * where package managers make a peer visible. (`import.meta.url` is shimmed in the CommonJS build.)
 */
export function loadPeer<T>(name: string, scheme: string): T {
  try {
    return createRequire(import.meta.url)(name) as T
  } catch (cause) {
    throw missingPeer(name, scheme, cause)
  }
}

export function missingPeer(name: string, scheme: string, cause: unknown): LockError {
  return new LockError(`${scheme} store URLs need the ${name} package: install it next to @cachelock/core (npm install ${name})`, {
    cause,
  })
}
