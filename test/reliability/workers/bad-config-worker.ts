import { configure, createLockManager } from '../../../packages/core/src/index.js'
import { config, describeError, emit } from './worker-io.js'

/**
 * Makes a manager from a store URL plus one bad option, reports how that failed, and then does
 * nothing: the process must exit on its own. If the bad option was noticed only after the store
 * opened its connection, that connection (which nobody can close: no manager was returned) keeps
 * the process alive, and the test sees it still running.
 */
const { url, options, via } = config<{ url: string; options: Record<string, unknown>; via: 'createLockManager' | 'configure' }>()
try {
  if (via === 'configure') configure({ store: url, ...options })
  else createLockManager({ store: url, ...options })
  emit('created')
} catch (error) {
  emit('threw', { error: describeError(error) })
}
