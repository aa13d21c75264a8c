import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'
import { checkReadme } from '../../../test/support/readme-snippets.js'

// Every ```ts block of the README compiles as written, with this package's compiler options
// (experimentalDecorators and emitDecoratorMetadata, as a Nest application has them).
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')

test('the README’s code compiles', () => {
  const result = checkReadme({ readme: join(packageDir, 'README.md'), tsconfig: join(packageDir, 'tsconfig.json') })
  expect(result.errors).toEqual([])
  expect(result.compiled).toBeGreaterThan(10)
  expect(result.fragments).toBe(0)
}, 180_000)
