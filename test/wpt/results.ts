import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CACHELOCK_ERROR_EQUIVALENCES, NOT_APPLICABLE } from './applicability.js'
import { formatValue } from './harness/assertions.js'
import type { WptOutcome } from './harness/wpt-test.js'
import type { Target } from './targets.js'

/** Where a conformance run writes its results; `pnpm wpt:readme` puts them into the README. */
export const RESULTS_PATH = fileURLToPath(new URL('results.json', import.meta.url))

export type ResultStatus = 'pass' | 'fail' | 'timeout' | 'not-applicable' | 'not-run'

export interface TestResult {
  file: string
  test: string
  status: ResultStatus
  /** Why it failed. */
  message?: string
  /** Error equivalences a pass relied on (see applicability.ts). */
  equivalences?: string[]
}

export interface TargetReport {
  target: string
  kind: Target['kind']
  passed: number
  /** Tests minus the not-applicable ones. */
  applicable: number
  failed: number
  notApplicable: number
  /** Declared but not run (a filtered run): such a report is partial. */
  notRun: number
  tests: TestResult[]
}

/** Per target: every WPT test declared, and how it ended. */
export class ConformanceResults {
  readonly #targets = new Map<string, { kind: Target['kind']; tests: Map<string, TestResult> }>()

  declare(target: Target, file: string, test: string): void {
    let entry = this.#targets.get(target.name)
    if (!entry) this.#targets.set(target.name, (entry = { kind: target.kind, tests: new Map() }))
    entry.tests.set(`${file}\n${test}`, { file, test, status: 'not-run' })
  }

  record(target: Target, file: string, test: string, outcome: WptOutcome, notApplicable: boolean): void {
    const result: TestResult = { file, test, status: outcome.status }
    if (outcome.status === 'pass' && outcome.equivalences.length) result.equivalences = outcome.equivalences
    if (outcome.status !== 'pass') result.message = messageOf(outcome.error)
    if (notApplicable && outcome.status !== 'pass') result.status = 'not-applicable'
    this.#targets.get(target.name)!.tests.set(`${file}\n${test}`, result)
  }

  reports(): TargetReport[] {
    return [...this.#targets].map(([target, { kind, tests }]) => {
      const list = [...tests.values()]
      const count = (...statuses: ResultStatus[]) => list.filter((test) => statuses.includes(test.status)).length
      const notApplicable = count('not-applicable')
      return {
        target,
        kind,
        passed: count('pass'),
        applicable: list.length - notApplicable,
        failed: count('fail', 'timeout'),
        notApplicable,
        notRun: count('not-run'),
        tests: list,
      }
    })
  }

  write(path = RESULTS_PATH): void {
    const file = {
      generatedAt: new Date().toISOString(),
      node: process.version,
      referenceAvailable: Boolean((globalThis as { navigator?: { locks?: unknown } }).navigator?.locks),
      notApplicable: NOT_APPLICABLE.map(({ file, test, reason, stores }) => ({ file, test, reason, ...(stores ? { stores } : {}) })),
      equivalences: CACHELOCK_ERROR_EQUIVALENCES.map(({ expected, instead, reason }) => ({ expected, instead, reason })),
      targets: this.reports(),
    }
    writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`)
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : `threw ${formatValue(error)}`
}
