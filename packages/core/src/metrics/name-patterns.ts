import { globMatcher } from '../glob.js'
import { invalid } from '../validate.js'

/** The label of names that match none of the patterns. */
export const OTHER = 'other'

/** How lock names become a metric attribute: glob patterns (first match wins), or a function. */
export type NamePatterns = readonly string[] | ((name: string) => string)

const CACHE_SIZE = 4096

/**
 * A name → label function over `patterns`, memoized: locks are taken under the same few thousand
 * names again and again, and matching each against every glob each time would cost more than
 * recording. Bounded: apps that lock millions of ids must not grow the cache.
 */
export function labeller(patterns: NamePatterns, argument: string): (name: string) => string {
  let label: (name: string) => string
  if (typeof patterns === 'function') {
    label = (name) => {
      const value = patterns(name)
      return typeof value === 'string' ? value : OTHER
    }
  } else if (Array.isArray(patterns) && patterns.every((pattern) => typeof pattern === 'string')) {
    const matchers = patterns.map((pattern) => [pattern, globMatcher(pattern)] as const)
    label = (name) => matchers.find(([, matches]) => matches(name))?.[0] ?? OTHER
  } else {
    throw invalid(argument, 'an array of name patterns (globs such as "order:*") or a function from a name to a label', patterns)
  }
  const cache = new Map<string, string>()
  return (name) => {
    let value = cache.get(name)
    if (value === undefined) {
      if (cache.size >= CACHE_SIZE) cache.clear()
      value = label(name)
      cache.set(name, value)
    }
    return value
  }
}
