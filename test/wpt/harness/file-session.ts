import type { Realm, Target } from '../targets.js'
import { loadWptFile, type DeclaredTest, type LoadedFile } from './global-scope.js'
import { UncaughtRejections } from './uncaught.js'
import { WptTest, type WptOutcome } from './wpt-test.js'

/**
 * One vendored file against one target, as a page would run it: the file is evaluated once, its
 * tests share that page's `navigator.locks` and run one after another, in declaration order.
 */
export class FileSession {
  readonly target: Target
  readonly loaded: LoadedFile
  readonly #uncaught = new UncaughtRejections()
  #realm: Realm | undefined

  constructor(target: Target, file: string) {
    this.target = target
    this.loaded = loadWptFile(file, { locks: () => this.#open().locks, worker: () => this.#open().worker() }, target.equivalences)
  }

  /** A fresh namespace for this file. */
  open(): void {
    this.#realm = this.target.open(this.loaded.file)
    this.#uncaught.install(this.loaded.allowUncaughtException)
  }

  async run(test: DeclaredTest, timeoutMs: number): Promise<WptOutcome> {
    const t = new WptTest(test.name)
    this.#uncaught.current = t
    try {
      return await t.run(test.body, timeoutMs)
    } finally {
      this.#uncaught.current = undefined
    }
  }

  /** Close the namespace's clients; throws if the file had an uncaught rejection outside its tests. */
  async close(): Promise<void> {
    this.#uncaught.finish()
    try {
      await this.#realm?.close()
      // Requests still pending reject when their connection closes: let that happen while the
      // file's listener still absorbs it.
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
    } finally {
      this.#uncaught.uninstall()
    }
    if (this.#uncaught.outsideTests.length) {
      throw new AggregateError(this.#uncaught.outsideTests, `${this.loaded.file}: uncaught rejections outside any test`)
    }
  }

  #open(): Realm {
    if (!this.#realm) throw new Error(`${this.loaded.file} used navigator.locks before its session was opened`)
    return this.#realm
  }
}
