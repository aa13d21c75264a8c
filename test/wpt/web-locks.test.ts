import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { knownGap, notApplicable } from './applicability.js'
import { FileSession } from './harness/file-session.js'
import { wptTestFiles } from './harness/vendored.js'
import type { WptOutcome } from './harness/wpt-test.js'
import { ConformanceResults, messageOf } from './results.js'
import { targets } from './targets.js'

/**
 * The W3C web-platform-tests for Web Locks, unmodified, against cachelock on every store (and
 * against Node's own `navigator.locks` where this Node has one). One vitest test per WPT test; the
 * run writes `test/wpt/results.json`, which `pnpm wpt:readme` puts into the README.
 */

/** Per WPT test, as testharness.js's default timeout for a whole file. */
const TIMEOUT_MS = Number(process.env['CACHELOCK_WPT_TIMEOUT_MS'] ?? 10_000)

const results = new ConformanceResults()
afterAll(() => results.write())

for (const target of targets()) {
  describe(target.name, () => {
    for (const file of wptTestFiles()) {
      describe(file, () => {
        const session = new FileSession(target, file)
        beforeAll(() => session.open())
        afterAll(() => session.close())

        for (const test of session.loaded.tests) {
          const exempt = notApplicable(file, test.name, target.name)
          const gap = knownGap(file, test.name, target.name)
          results.declare(target, file, test.name)
          it(
            exempt ? `${test.name} (not applicable)` : gap ? `${test.name} (known gap, counted as failing)` : test.name,
            async () => {
              const outcome = await session.run(test, TIMEOUT_MS)
              results.record(target, file, test.name, outcome, exempt !== undefined)
              if (exempt) {
                // Still run: it must fail for the stated reason, or the entry is wrong.
                expect(outcome.status === 'pass' ? 'passed' : messageOf(outcome.error)).toMatch(new RegExp(`^${escape(exempt.failsWith)}`))
              } else if (gap) {
                // Recorded as failing; the vitest test checks it fails exactly as published.
                expect(outcome.status === 'pass' ? 'passed' : messageOf(outcome.error)).toMatch(new RegExp(`^${escape(gap.failsWith)}`))
              } else if (outcome.status !== 'pass') {
                throw failure(outcome)
              }
            },
            2 * TIMEOUT_MS + 5_000,
          )
        }
      })
    }
  })
}

function failure(outcome: Exclude<WptOutcome, { status: 'pass' }>): Error {
  return outcome.error instanceof Error ? outcome.error : new Error(messageOf(outcome.error), { cause: outcome.error })
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
