import type { WptTest } from './wpt-test.js'

type Listener = (reason: unknown, promise: Promise<unknown>) => void

/**
 * Unhandled rejections while a WPT file runs, handled as testharness.js does: one during a test
 * fails that test, unless the file called `setup({ allow_uncaught_exception: true })` (held.js
 * rejects a callback's promise on purpose). One between tests is a harness error of the file.
 * Once the file is done, nothing observes it any more (a browser would have closed the page), so
 * rejections of requests still pending then are dropped.
 *
 * The vitest worker's own listener is set aside meanwhile, or it would report the rejections a
 * file provokes on purpose as errors of the run.
 */
export class UncaughtRejections {
  /** Harness errors: rejections outside any test, while the file was running. */
  readonly outsideTests: unknown[] = []
  current: WptTest | undefined
  #allow = false
  #finished = false
  #saved: Listener[] = []
  readonly #listener: Listener = (reason) => this.#handle(reason)

  /** Start catching for a file. */
  install(allowUncaughtException: boolean): void {
    this.#allow = allowUncaughtException
    this.#saved = process.listeners('unhandledRejection')
    process.removeAllListeners('unhandledRejection')
    process.on('unhandledRejection', this.#listener)
  }

  /** The file's tests are all done: later rejections are not the file's any more. */
  finish(): void {
    this.#finished = true
    this.current = undefined
  }

  /** Give the process its listeners back. */
  uninstall(): void {
    process.off('unhandledRejection', this.#listener)
    for (const listener of this.#saved) process.on('unhandledRejection', listener)
    this.#saved = []
  }

  #handle(reason: unknown): void {
    if (this.#allow || this.#finished) return
    const error = new Error(`Unhandled rejection: ${reason instanceof Error ? reason.message : String(reason)}`, { cause: reason })
    if (this.current && !this.current.done) this.current.fail(error)
    else this.outsideTests.push(error)
  }
}
