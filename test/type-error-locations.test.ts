import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'
import { errorLocations } from './support/type-error-locations.js'

// The type tests' `// @ts-expect-error on \`x\`` lines: the error starts at `x` (a misspelt option
// is reported on the option, not on the call). `tsc` checks that the errors exist at all.
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const files = [
  { file: 'packages/core/test/lock-manager.types.ts', tsconfig: 'packages/core/tsconfig.json', marks: 8 },
  { file: 'packages/core/test/decorator.types.ts', tsconfig: 'packages/core/tsconfig.json', marks: 1 },
  { file: 'packages/prisma/test/types.test.ts', tsconfig: 'packages/prisma/tsconfig.json', marks: 21 },
  { file: 'packages/typeorm/test/lock-model.types.ts', tsconfig: 'packages/typeorm/tsconfig.json', marks: 5 },
  { file: 'packages/typeorm/test/lockable-repository.types.ts', tsconfig: 'packages/typeorm/tsconfig.json', marks: 9 },
]

test.each(files)(
  '$file: errors start where marked',
  ({ file, tsconfig, marks }) => {
    const { checked, problems } = errorLocations(join(root, file), join(root, tsconfig))
    expect(problems).toEqual([])
    expect(checked).toBeGreaterThanOrEqual(marks)
  },
  180_000,
)
