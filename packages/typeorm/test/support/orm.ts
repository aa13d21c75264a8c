import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/**
 * The TypeORM line a test file runs on. The adapter imports nothing from `typeorm` at runtime (only
 * types), so the same sources serve whichever line created the data source: 1.x is the package's
 * `typeorm` dev dependency, 0.3 its `typeorm03` alias (npm:typeorm@0.3.x).
 */
export type Orm = typeof import('typeorm')

const require = createRequire(import.meta.url)

/** The installed version behind a line, read from its package.json. */
export function ormVersion(line: '1.x' | '0.3'): string {
  const main = require.resolve(line === '1.x' ? 'typeorm' : 'typeorm03')
  return (JSON.parse(readFileSync(join(dirname(main), 'package.json'), 'utf8')) as { version: string }).version
}

export async function loadOrm(line: '1.x' | '0.3'): Promise<Orm> {
  const orm = line === '1.x' ? await import('typeorm') : ((await import('typeorm03')) as unknown as Orm)
  return orm
}
