import * as assertions from './assertions.js'
import { rejectionAssertions, type ErrorEquivalence } from './assertions.js'
import { evaluateInScope } from './evaluate.js'
import { vendoredSource } from './vendored.js'
import { checkWorkerUrl, type WorkerHandle } from './worker.js'
import type { WptTest } from './wpt-test.js'

/** One `promise_test(...)` or `test(...)` a file declared, in declaration order. */
export interface DeclaredTest {
  name: string
  body: (t: WptTest) => unknown
}

/** What the page's globals are bound to while a file runs (set once the file's realm is open). */
export interface PageBindings {
  /** `navigator.locks`. */
  locks: () => unknown
  /** `new Worker('resources/worker.js')`: a second client of the same lock state. */
  worker: () => WorkerHandle
}

/** A vendored file after evaluation: its tests, and what its `setup()` asked for. */
export interface LoadedFile {
  file: string
  tests: DeclaredTest[]
  /** `setup({ allow_uncaught_exception: true })`: uncaught rejections do not fail its tests. */
  allowUncaughtException: boolean
}

/** The `META: script=` lines of a file: scripts testharness loads before it. */
function metaScripts(source: string): string[] {
  return [...source.matchAll(/^\/\/ META: script=(\S+)$/gm)].map((match) => match[1]!)
}

/**
 * Evaluate a vendored WPT file (and the scripts its META lines name) with a stand-in for a
 * testharness.js page: the assertions, `promise_test`/`test`/`setup`, `self`, `location`,
 * `navigator.locks` and `Worker`. Only declares the tests; the runner runs them.
 */
export function loadWptFile(file: string, page: PageBindings, equivalences: readonly ErrorEquivalence[]): LoadedFile {
  const loaded: LoadedFile = { file, tests: [], allowUncaughtException: false }
  const source = vendoredSource(file)
  // Navigator's `locks` is an attribute on its prototype, as in a browser, bound late.
  const navigator = Object.create({
    get locks() {
      return page.locks()
    },
  }) as object
  const asserts = Object.fromEntries(Object.entries(assertions).filter(([name]) => name.startsWith('assert_')))
  const scope: Record<string, unknown> = Object.assign(Object.create(null) as object, asserts, rejectionAssertions(equivalences), {
    location: { pathname: `/web-locks/${file}`, href: `https://web-platform.test/web-locks/${file}` },
    navigator,
    Worker: function Worker(url: unknown) {
      checkWorkerUrl(url)
      return page.worker()
    },
    promise_test(body: (t: WptTest) => Promise<unknown>, name: string) {
      loaded.tests.push({ name, body })
    },
    test(body: (t: WptTest) => unknown, name: string) {
      loaded.tests.push({ name, body })
    },
    setup(options: { allow_uncaught_exception?: boolean } = {}) {
      loaded.allowUncaughtException = options.allow_uncaught_exception === true
    },
  })
  scope['self'] = scope
  scope['globalThis'] = scope
  for (const script of metaScripts(source)) evaluateInScope(vendoredSource(script), `web-locks/${script}`, scope)
  evaluateInScope(source, `web-locks/${file}`, scope)
  return loaded
}
