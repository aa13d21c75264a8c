/**
 * Lock-name patterns, as the CLI's `list [pattern]`, `LockStore.list` and the metrics' name
 * patterns take them: `*` matches any run of characters (none too), `?` exactly one character,
 * `\` makes the next character literal (`\*`), and every other character matches itself. Nothing
 * else is special, so ordinary names (`order:42`, `{tenant}/sku[3]`) are patterns for themselves.
 */
export type GlobToken = { literal: string } | { any: 'run' | 'one' }

/** The pattern as literals and wildcards. */
export function parseGlob(pattern: string): GlobToken[] {
  const tokens: GlobToken[] = []
  const chars = Array.from(pattern)
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!
    if (char === '\\' && i + 1 < chars.length) tokens.push({ literal: chars[++i]! })
    else if (char === '*') tokens.push({ any: 'run' })
    else if (char === '?') tokens.push({ any: 'one' })
    else tokens.push({ literal: char })
  }
  return tokens
}

/** A test for names matching `pattern` (a whole-name match). */
export function globMatcher(pattern: string): (name: string) => boolean {
  const source = parseGlob(pattern)
    .map((token) => ('literal' in token ? token.literal.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&') : token.any === 'run' ? '[^]*' : '[^]'))
    .join('')
  // `u`: `?` is one code point (an emoji too), and a lone surrogate is one character of its own.
  const regexp = new RegExp(`^${source}$`, 'u')
  return (name) => regexp.test(name)
}

/** The one name `pattern` matches, when it has no wildcard; `undefined` otherwise. */
export function globLiteral(pattern: string): string | undefined {
  let name = ''
  for (const token of parseGlob(pattern)) {
    if (!('literal' in token)) return undefined
    name += token.literal
  }
  return name
}

/** A pattern matching exactly `name`. */
export function escapeGlob(name: string): string {
  return name.replace(/[\\*?]/g, '\\$&')
}
