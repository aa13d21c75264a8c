// @ts-check
// Mutation testing (StrykerJS with its vitest runner), one module group at a time: `pnpm mutate
// GROUP` (see scripts/mutate.mjs, which starts the test servers first). Each group names the code
// it mutates and the test files that may kill its mutants; only those run, and per mutant only
// the tests that cover it. Results are kept per group in mutation/GROUP.incremental.json, so a
// rerun tests only mutants whose code or covering tests changed.

/**
 * The groups, in the order `pnpm mutate` runs them with no argument. Stores first: they change
 * least.
 * @type {Record<string, { mutate: string[]; tests: string[] }>}
 */
export const groups = {
  memory: {
    mutate: ['packages/core/src/stores/memory/memory-store.ts'],
    tests: ['packages/core/test/stores/memory{,-*}.test.ts'],
  },
  open: {
    mutate: ['packages/core/src/stores/open/open-store.ts'],
    tests: ['packages/core/test/stores/open.test.ts'],
  },
  redis: {
    mutate: [
      'packages/core/src/stores/redis/{redis-store,replicated,keys,client,wake-ups,revive}.ts',
      'packages/core/src/stores/redis/scripts/*.ts',
    ],
    tests: ['packages/core/test/stores/redis/{,scripts/}*.test.ts', 'test/reliability/redis-store-options.test.ts'],
  },
  memcached: {
    mutate: ['packages/core/src/stores/memcached/{memcached-store,protocol,record,expiry,keys}.ts'],
    tests: ['packages/core/test/stores/memcached/*.test.ts'],
  },
  lease: {
    mutate: ['packages/core/src/{lease,held-leases,release-retry}.ts'],
    tests: [
      'packages/core/test/*.test.ts',
      'packages/core/test/stores/{memory,open}.test.ts',
      'packages/core/test/stores/redis/release-retry.test.ts',
    ],
  },
  'name-queue': {
    mutate: ['packages/core/src/{name-queue,name-queues,attempts,grant-order,settled-stores}.ts'],
    // Plus the queue over a real Redis: handover to a parked waiter, and the waiters the store lists.
    tests: [
      'packages/core/test/*.test.ts',
      'packages/core/test/stores/{memory,open}.test.ts',
      'packages/core/test/stores/redis/{manager-handover,queue-handover}.test.ts',
      'packages/core/test/records/early-start.test.ts',
      'test/query-pending.test.ts',
    ],
  },
  manager: {
    mutate: ['packages/core/src/{lock-manager,lock,lock-handle,manager-snapshot,manager-internals}.ts'],
    tests: [
      'packages/core/test/*.test.ts',
      'packages/core/test/stores/{memory,open}.test.ts',
      'packages/core/test/records/early-start.test.ts',
    ],
  },
  // Work the adapters begin beside the lock requests (BEGIN), and when it is given up; the flow
  // storage that is on only while a lock scope runs.
  records: {
    mutate: ['packages/core/src/records/{early-start,scoped-storage}.ts'],
    tests: ['packages/core/test/records/*.test.ts'],
  },
  prisma: {
    mutate: ['packages/prisma/src/{with-lock,lock-scope,fenced-writes,records,record-target,row-match,record-lock}.ts'],
    tests: ['packages/prisma/test/*.test.ts'],
  },
  typeorm: {
    mutate: [
      'packages/typeorm/src/{row-locks,with-model-lock,row-key,lockable-repository,subscriber,guard,fence,fenced-manager,owned-locks}.ts',
    ],
    tests: ['packages/typeorm/test/*.test.ts'],
  },
}

const name = process.env.CACHELOCK_MUTATE_GROUP ?? 'memory'
const group = groups[name]
if (!group) throw new Error(`Unknown mutation group ${JSON.stringify(name)}; one of: ${Object.keys(groups).join(', ')}`)

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // Only the group's test files (see vitest.mutate.config.mjs), all of them: `related` would
  // drop tests that reach the code through another package's entry point.
  vitest: { configFile: 'vitest.mutate.config.mjs', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: group.mutate,
  coverageAnalysis: 'perTest',
  // The machine is shared; real-server tests also slow each other down. Override with --concurrency.
  concurrency: 1,
  // Tests wait for real servers and whole memcached seconds: a generous absolute margin keeps a
  // slow, loaded machine from reporting mutants as timeouts (which would count as killed).
  timeoutMS: 15_000,
  dryRunTimeoutMinutes: 20,
  incremental: true,
  incrementalFile: `mutation/${name}.incremental.json`,
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // The servers' data, benchmarks and examples are no part of what the tests load.
  ignorePatterns: ['.services', 'reports', 'mutation', 'bench', 'examples', '.vitest-report-*.json'],
}
