import { assert_unreached, type ErrorEquivalence } from './assertions.js'

/** How one WPT test ended. */
export type WptOutcome =
  { status: 'pass'; equivalences: string[] } | { status: 'fail'; error: unknown } | { status: 'timeout'; error: Error }

type Phase = 'initial' | 'started' | 'done'

/**
 * The `t` a WPT test receives, with testharness.js's semantics where the vendored files rely on
 * them: a step (`step_func`, `unreached_func`, `step_timeout`) that throws fails the test at once;
 * once the test has a result, further steps are ignored; cleanups run after the result, and a
 * cleanup's promise is awaited.
 */
export class WptTest {
  readonly name: string
  readonly #cleanups: (() => unknown)[] = []
  readonly #equivalences = new Set<string>()
  #phase: Phase = 'initial'
  #failure: { error: unknown } | undefined
  #onFailure: ((error: unknown) => void) | undefined

  constructor(name: string) {
    this.name = name
  }

  /** Whether the test has a result; steps and failures after that are ignored, as testharness does. */
  get done(): boolean {
    return this.#phase === 'done'
  }

  add_cleanup(callback: () => unknown): void {
    this.#cleanups.push(callback)
  }

  step<A extends unknown[], R>(func: (...args: A) => R, thisObj: unknown = this, ...args: A): R | undefined {
    if (this.#phase === 'done') return undefined
    try {
      return func.apply(thisObj, args)
    } catch (error) {
      this.fail(error)
      return undefined
    }
  }

  step_func<A extends unknown[], R>(func: (...args: A) => R, thisObj?: unknown): (...args: A) => R | undefined {
    return (...args: A) => this.step(func, thisObj ?? this, ...args)
  }

  unreached_func(description?: string): (...args: unknown[]) => undefined {
    return this.step_func(() => {
      assert_unreached(description)
    })
  }

  step_timeout<A extends unknown[]>(func: (...args: A) => unknown, ms: number, ...args: A): NodeJS.Timeout {
    return setTimeout(
      this.step_func(() => func.apply(this, args)),
      ms,
    )
  }

  /** Fail the test now (a step threw, a promise_rejects_* saw a resolution, an uncaught error). */
  fail(error: unknown): void {
    if (this.#phase === 'done' || this.#failure) return
    this.#failure = { error }
    this.#onFailure?.(error)
  }

  /** Note that an assertion passed only through an implementation's declared error equivalence. */
  recordEquivalence(equivalence: ErrorEquivalence): void {
    this.#equivalences.add(`${equivalence.expected} ← ${equivalence.instead}`)
  }

  /**
   * Run `body` (the test function) to a result: it passes when its promise resolves and no step
   * failed; it fails at the first failure; it times out after `timeoutMs`. Cleanups then run.
   */
  async run(body: (t: WptTest) => unknown, timeoutMs: number): Promise<WptOutcome> {
    this.#phase = 'started'
    let timer: NodeJS.Timeout | undefined
    const failed = new Promise<WptOutcome>((resolve) => {
      this.#onFailure = (error) => resolve({ status: 'fail', error })
    })
    const timedOut = new Promise<WptOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ status: 'timeout', error: new Error(`Test timed out after ${timeoutMs} ms`) }), timeoutMs)
    })
    const finished = (async (): Promise<WptOutcome> => {
      try {
        await body(this)
      } catch (error) {
        return { status: 'fail', error }
      }
      return { status: 'pass', equivalences: [...this.#equivalences] }
    })()
    let outcome = this.#failure ? { status: 'fail' as const, error: this.#failure.error } : await Promise.race([finished, failed, timedOut])
    clearTimeout(timer)
    if (outcome.status === 'pass' && this.#failure) outcome = { status: 'fail', error: this.#failure.error }
    this.#phase = 'done'
    const cleanup = await this.#cleanup(timeoutMs)
    if (outcome.status === 'pass' && cleanup) return { status: 'fail', error: cleanup }
    return outcome
  }

  /** Run the cleanups; a thrown or rejected cleanup, or one that never settles, is a harness error. */
  async #cleanup(timeoutMs: number): Promise<Error | undefined> {
    let timer: NodeJS.Timeout | undefined
    try {
      const pending = this.#cleanups.map((callback) => Promise.resolve().then(callback))
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Cleanup did not finish within ${timeoutMs} ms`)), timeoutMs)
      })
      await Promise.race([Promise.all(pending), timedOut])
      return undefined
    } catch (error) {
      return error instanceof Error ? error : new Error(`Cleanup failed: ${String(error)}`)
    } finally {
      clearTimeout(timer)
    }
  }
}
