import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

// The README's first command runs this example: it must keep running, and keep showing the difference.
test('the demo loses updates without a lock and none with withLock', () => {
  const output = execFileSync('pnpm', ['start'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
    env: { ...process.env, CACHELOCK_URL: '' },
  })
  expect(output).toMatch(/^without a lock .* \d+ of 120 updates lost/m)
  expect(output).toMatch(/^with withLock +\$200 +\$200 +\$200 +none lost/m)
}, 60_000)
