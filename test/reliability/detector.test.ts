import { describe, expect, test, vi } from 'vitest'
import { REDIS_URL, uniquePrefix } from './support/env.js'
import { describeRun, runExclusion, type ExclusionRun } from './support/exclusion.js'
import { report } from './support/report.js'

// Worker processes start slowly on a loaded 2-core machine; every wait inside has its own bound.
vi.setConfig({ testTimeout: 120_000 })

/**
 * The exclusion test is only evidence if its detector can fail. The same harness, the same
 * sections, with locking that does not exclude: it must see overlaps and a lost count. (Eight
 * processes each pausing up to 4 ms between read and write collide essentially every time.)
 */
describe('the overlap detector catches a lock that does not exclude', () => {
  const cases: [string, Omit<ExclusionRun, 'prefix'>][] = [
    ['the open store (every request granted)', { url: 'open://', processes: 8, sectionsPerProcess: 25, lock: true, sleep: 100 }],
    [
      'locking turned off (Redis configured, no request made)',
      { url: REDIS_URL, processes: 8, sectionsPerProcess: 25, lock: false, sleep: 100 },
    ],
  ]
  test.each(cases)('%s', async (label, base) => {
    const run = { ...base, prefix: uniquePrefix('detector') }
    const result = await runExclusion(run)
    report(`detector/${run.url}`, { ...run, ...result, details: undefined }, describeRun(label, run, result))
    expect(result.details).toEqual([])
    expect(result.entered).toBe(result.expected)
    expect(result.overlaps).toBeGreaterThan(0)
    expect(result.maxInside).toBeGreaterThan(1)
    expect(result.count).toBeLessThan(result.expected)
  })
})
