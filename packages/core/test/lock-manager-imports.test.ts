import { readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'

const src = join(dirname(fileURLToPath(import.meta.url)), '../src')

/** Every relative import of a source file, static or dynamic, type-only too: what the file knows about. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)'(\.[^']+)'/gm)].map((match) => match[1]!)
  return specifiers.map((specifier) => join(dirname(file), specifier.replace(/\.js$/, '.ts')))
}

/** The files `entry` reaches through relative imports, itself included. */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    for (const next of importsOf(file)) visit(next)
  }
  visit(entry)
  return seen
}

describe('the manager knows only the store seam', () => {
  const files = [...reachable(join(src, 'lock-manager.ts'))].map((file) => relative(src, file))

  test('nothing lock-manager.ts reaches is a store, the store-creation module or a URL parser', () => {
    expect(files).toContain('store.ts')
    expect(files.filter((file) => file.startsWith('stores/') || file === 'create-store.ts' || file === 'implicit-store.ts')).toEqual([])
  })

  test('the walk sees what it should: the store-creation module reaches every store', () => {
    const fromCreateStore = [...reachable(join(src, 'create-store.ts'))].map((file) => relative(src, file))
    for (const store of ['redis', 'memcached', 'postgres', 'mysql', 'sqlite', 'memory', 'open']) {
      expect(
        fromCreateStore.some((file) => file.startsWith(`stores/${store}/`)),
        store,
      ).toBe(true)
    }
  })
})
