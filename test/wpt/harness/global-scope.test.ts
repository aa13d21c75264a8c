import { cpSync, mkdtempSync, rmSync, appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LockManager, MemoryStore } from '@cachelock/core'
import { afterEach, describe, expect, it } from 'vitest'
import { loadWptFile, type PageBindings } from './global-scope.js'
import { VENDOR_DIR, vendoredSource, wptTestFiles } from './vendored.js'
import { WptTest } from './wpt-test.js'

const unbound: PageBindings = {
  locks: () => {
    throw new Error('not bound')
  },
  worker: () => {
    throw new Error('not bound')
  },
}

describe('loading a vendored file', () => {
  it('declares every test of every file, in order (69 in all)', () => {
    const counts = Object.fromEntries(wptTestFiles().map((file) => [file, loadWptFile(file, unbound, []).tests.length]))
    expect(counts).toEqual({
      'acquire.https.any.js': 11,
      'held.tentative.https.any.js': 4,
      'ifAvailable.https.any.js': 10,
      'mode-exclusive.https.any.js': 2,
      'mode-mixed.https.any.js': 3,
      'mode-shared.https.any.js': 2,
      'query-empty.https.any.js': 1,
      'query.https.any.js': 9,
      'resource-names.https.any.js': 8,
      'secure-context.https.any.js': 1,
      'signal.https.any.js': 13,
      'steal.https.any.js': 5,
    })
    expect(loadWptFile('mode-exclusive.https.any.js', unbound, []).tests.map((test) => test.name)).toEqual([
      'Lock requests are granted in order',
      'Requests for distinct resources can be granted',
    ])
  })

  it('honours setup({ allow_uncaught_exception }) only where a file asks for it', () => {
    expect(loadWptFile('held.tentative.https.any.js', unbound, []).allowUncaughtException).toBe(true)
    expect(loadWptFile('steal.https.any.js', unbound, []).allowUncaughtException).toBe(false)
  })

  it('binds navigator.locks late, and loads resources/helpers.js for the file', async () => {
    const locks = new LockManager({ store: new MemoryStore() })
    const loaded = loadWptFile('ifAvailable.https.any.js', { locks: () => locks, worker: unbound.worker }, [])
    const first = loaded.tests[0]!
    expect(first.name).toBe('Lock request with ifAvailable - lock available')
    expect(await new WptTest(first.name).run(first.body, 2_000)).toEqual({ status: 'pass', equivalences: [] })
  })

  it('a test fails when the implementation is wrong (query() that always reports nothing held)', async () => {
    const locks = new LockManager({ store: new MemoryStore() })
    const broken = {
      request: locks.request.bind(locks),
      query: async () => ({ held: [], pending: [] }),
    }
    const loaded = loadWptFile('query.https.any.js', { locks: () => broken, worker: unbound.worker }, [])
    const test = loaded.tests.find((entry) => entry.name === 'query() reports individual held locks')!
    expect(await new WptTest(test.name).run(test.body, 2_000)).toMatchObject({ status: 'fail' })
  })
})

describe('vendoredSource', () => {
  let copy: string | undefined
  afterEach(() => {
    if (copy) rmSync(copy, { recursive: true, force: true })
  })

  it('refuses a file whose bytes differ from ORIGIN.md by one byte', () => {
    copy = `${mkdtempSync(join(tmpdir(), 'wpt-'))}/`
    cpSync(VENDOR_DIR, copy, { recursive: true })
    expect(vendoredSource('steal.https.any.js', copy)).toContain('promise_test(async t => {')
    appendFileSync(`${copy}steal.https.any.js`, ' ')
    expect(() => vendoredSource('steal.https.any.js', copy)).toThrow(/steal.https.any.js was modified/)
  })
})
