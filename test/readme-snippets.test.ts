import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { checkReadme, readmeSnippets } from './support/readme-snippets.js'

// The README checker's conventions, on small READMEs: what it must refuse, it refuses.
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dir = mkdtempSync(join(root, 'test', '.readme-fixture-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function check(markdown: string) {
  const readme = join(dir, 'README.md')
  writeFileSync(readme, markdown)
  return checkReadme({ readme, tsconfig: join(root, 'packages', 'core', 'tsconfig.json') })
}

const ts = (code: string) => '```ts\n' + code + '\n```\n'

describe('readmeSnippets', () => {
  it('finds ts blocks, their lines, fragments and the context', () => {
    const markdown = [
      '# x',
      '<!-- snippet-context',
      'declare global { const a: number }',
      '-->',
      ts('const b = a'),
      '<!-- snippet: fragment (a cheat sheet) -->',
      '',
      ts('class X { ... }'),
      '```sh\nnpm i\n```',
    ].join('\n')
    const { blocks, context, errors } = readmeSnippets(markdown)
    expect(errors).toEqual([])
    expect(context).toEqual({ code: 'declare global { const a: number }', line: 3 })
    expect(blocks.map(({ line, fragment }) => ({ line, fragment }))).toEqual([
      { line: 6, fragment: false },
      { line: 12, fragment: true },
    ])
  })

  it('wants a reason for a fragment, and knows its markers', () => {
    expect(readmeSnippets(`<!-- snippet: fragment -->\n${ts('x')}`).errors).toEqual([
      'README.md:1: a fragment marker needs its reason: <!-- snippet: fragment (why) -->',
    ])
    expect(readmeSnippets(`<!-- snippet: skip -->\n${ts('x')}`).errors).toEqual([
      'README.md:1: unknown snippet marker <!-- snippet: skip -->',
    ])
  })
})

describe('checkReadme', () => {
  it('passes code that compiles, with a named file imported by another block', () => {
    const result = check(
      ts("// shop.ts\nimport { createLockManager } from '@cachelock/core'\nexport const locks = createLockManager()") +
        ts("import { locks } from './shop.js'\nawait locks.withLock('a', async () => 1)"),
    )
    expect(result).toEqual({ compiled: 2, fragments: 0, errors: [] })
  }, 120_000)

  it('reports a name used without its import, at its README line', () => {
    const result = check(`# x\n\n${ts("import { Redis } from 'ioredis'\n\nconst store = new RedisStore(new Redis())")}`)
    expect(result.errors).toEqual([expect.stringMatching(/README\.md:6: Cannot find name 'RedisStore'/)])
  }, 120_000)

  it('refuses a context that stands in for an import', () => {
    const result = check(
      [
        '<!-- snippet-context',
        "import type { LockManager } from '@cachelock/core'",
        'declare global {',
        '  const locks: LockManager',
        '  class MemoryStore {}',
        '}',
        '-->',
        ts(
          "import { createLockManager } from '@cachelock/core'\nconst store = new MemoryStore()\nexport const other = createLockManager()\nawait locks.isLocked('a')",
        ),
      ].join('\n'),
    )
    expect(result.errors).toEqual([
      expect.stringMatching(/README\.md:2: the snippet context declares `MemoryStore`, which '@cachelock\/core' exports/),
    ])
  }, 120_000)

  it('skips a marked fragment only', () => {
    const result = check(`<!-- snippet: fragment (abbreviated) -->\n${ts('class X { ... }')}\n${ts('class Y { ... }')}`)
    expect(result.fragments).toBe(1)
    expect(result.errors.length).toBeGreaterThan(0)
    expect(result.errors.every((error) => error.includes('README.md:7:'))).toBe(true)
  }, 120_000)
})
