import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'
import { checkReadme } from './support/readme-snippets.js'

// Every ```ts block of the root README compiles as written. It shows TypeORM entities and NestJS
// providers, so it compiles as their apps do: experimentalDecorators with decorator metadata. The
// root README is the front page (a quick start per package); each package's README is its manual,
// checked by that package's readme.test.ts.
const root = join(dirname(fileURLToPath(import.meta.url)), '..')

test('the root README’s code compiles', () => {
  const result = checkReadme({
    readme: join(root, 'README.md'),
    tsconfig: join(root, 'tsconfig.json'),
    compilerOptions: { experimentalDecorators: true, emitDecoratorMetadata: true },
  })
  expect(result.errors).toEqual([])
  expect(result.compiled).toBeGreaterThanOrEqual(5)
  expect(result.fragments).toBe(0)
}, 240_000)
