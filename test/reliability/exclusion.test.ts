import { describe, expect, test, vi } from 'vitest'
import { STORES, uniquePrefix } from './support/env.js'
import { describeRun, runExclusion, type ExclusionRun } from './support/exclusion.js'
import { report } from './support/report.js'

// Worker processes start slowly on a loaded 2-core machine; every wait inside has its own bound.
vi.setConfig({ testTimeout: 180_000 })

/**
 * Mutual exclusion across OS processes: K processes × N critical sections on one name, each a
 * non-atomic read-modify-write with a random pause. Pass: the counter is exact and the journal
 * shows no section entered while another was inside.
 *
 * Each process ends with one section longer than its ttl (300 ms), which only renewal keeps
 * exclusive: the same run checks that auto-extension works under contention.
 *
 * `CACHELOCK_RELIABILITY_DISABLE_LOCK=1` runs the same sections without the lock: every test here
 * must then fail, which is how to see that the suite catches a broken guarantee.
 */
const PROCESSES = 8
const SECTIONS = 50
const LONG_SECTIONS = 1
const lock = process.env['CACHELOCK_RELIABILITY_DISABLE_LOCK'] !== '1'

describe.each(STORES)('multi-process exclusion on $name', (store) => {
  test(`${PROCESSES} processes × ${SECTIONS + LONG_SECTIONS} sections: exact count, no overlap`, async () => {
    const run: ExclusionRun = {
      url: store.url,
      processes: PROCESSES,
      sectionsPerProcess: SECTIONS,
      longSections: LONG_SECTIONS,
      longTtl: 300,
      lock,
      sleep: store.sleep,
      prefix: uniquePrefix('excl'),
    }
    const result = await runExclusion(run)
    report(`exclusion/${store.name}`, { ...run, ...result, details: undefined }, describeRun(store.name, run, result))
    expect(result.details).toEqual([])
    expect(result).toMatchObject({ overlaps: 0, maxInside: 1, malformed: 0, errors: 0, crashed: 0 })
    expect(result.entered).toBe(result.expected)
    expect(result.count).toBe(result.expected)
  })
})
