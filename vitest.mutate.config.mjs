// The vitest config Stryker runs (see stryker.config.mjs): the project's own, with only the test
// files of the group being mutated. The group's files are given here rather than as Stryker's
// `testFiles`: Stryker 9 turns `testFiles` into a test filter for every mutant, and a filtered
// run activates the mutant only after the modules loaded, so a mutant in code that runs at load
// time (a constant, a Lua script's text) could never be killed.
import base from './vitest.config.ts'
import { groups } from './stryker.config.mjs'

const group = groups[process.env.CACHELOCK_MUTATE_GROUP ?? '']
if (!group) throw new Error('CACHELOCK_MUTATE_GROUP names no mutation group (run `pnpm mutate GROUP`)')

export default { ...base, test: { ...base.test, include: group.tests } }
