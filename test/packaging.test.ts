import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const packages = readdirSync(join(root, 'packages'))
  .map((dir) => join(root, 'packages', dir))
  .filter((dir) => existsSync(join(dir, 'package.json')) && JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts?.build)
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))

/** A scratch project outside the workspace whose node_modules holds the built packages, as an app would. */
let app: string

beforeAll(() => {
  execFileSync('pnpm', ['-r', '--filter', './packages/**', 'run', 'build'], { cwd: root, stdio: 'pipe' })
  app = mkdtempSync(join(tmpdir(), 'cachelock-app-'))
  mkdirSync(join(app, 'node_modules', '@cachelock'), { recursive: true })
  for (const { dir, pkg } of packages) symlinkSync(dir, join(app, 'node_modules', pkg.name))
}, 240_000)

function node(file: string, source: string): string {
  writeFileSync(join(app, file), source)
  return execFileSync(process.execPath, [join(app, file)], { cwd: app, encoding: 'utf8' }).trim()
}

describe.each(packages)('package $pkg.name', ({ dir, pkg }) => {
  const entries = Object.entries(pkg.exports as Record<string, unknown>).filter(([, target]) => typeof target === 'object')

  it('declares what a published package needs', () => {
    expect(pkg.sideEffects).toBe(false)
    expect(pkg.files).toEqual(['dist'])
    expect(pkg.engines.node).toBe('>=20.19')
    for (const [, target] of entries as [string, Record<string, Record<string, string>>][]) {
      for (const branch of ['import', 'require']) {
        expect(Object.keys(target[branch]!)[0]).toBe('types')
        for (const file of Object.values(target[branch]!)) expect(existsSync(join(dir, file)), file).toBe(true)
      }
    }
  })

  it.each(entries.map(([subpath]) => subpath))('entry %s loads the same classes through import and require', (subpath) => {
    const specifier = pkg.name + subpath.slice(1)
    const out = node(
      'both.mjs',
      `import { createRequire } from 'node:module'
       const esm = await import(${JSON.stringify(specifier)})
       const cjs = createRequire(import.meta.url)(${JSON.stringify(specifier)})
       const names = Object.keys(cjs).filter((n) => n !== '__esModule')
       const differ = names.filter((n) => esm[n] !== cjs[n])
       console.log(JSON.stringify({ names: names.length, esmNames: Object.keys(esm).length, differ }))`,
    )
    const result = JSON.parse(out) as { names: number; esmNames: number; differ: string[] }
    expect(result.differ).toEqual([])
    expect(result.names).toBeGreaterThan(0)
    expect(result.esmNames).toBe(result.names)
  })

  it('type-checks a consumer in both module systems', () => {
    const specifiers = entries.map(([subpath]) => pkg.name + subpath.slice(1))
    const imports = specifiers.map((s, i) => `import * as m${i} from '${s}'\nexport const k${i}: string[] = Object.keys(m${i})`).join('\n')
    writeFileSync(join(app, 'consumer.mts'), imports)
    writeFileSync(join(app, 'consumer.cts'), imports)
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
        },
        files: ['consumer.mts', 'consumer.cts'],
      }),
    )
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    expect(() => execFileSync(process.execPath, [tsc, '-p', app], { encoding: 'utf8', stdio: 'pipe' })).not.toThrow()
  }, 60_000)
})

it('core: an error thrown by the CommonJS side is an instance of the ESM side’s class', () => {
  const out = node(
    'identity.mjs',
    `import { createRequire } from 'node:module'
     import { LockError, InvalidLockArgumentError, createLockManager } from '@cachelock/core'
     const cjs = createRequire(import.meta.url)('@cachelock/core')
     const error = await cjs.createLockManager().acquire('-bad').catch((e) => e)
     const manager = createLockManager()
     console.log(JSON.stringify([error instanceof InvalidLockArgumentError, error instanceof LockError, manager instanceof cjs.LockManager]))`,
  )
  expect(JSON.parse(out)).toEqual([true, true, true])
})

it('core: the `cachelock` bin runs from the installed package and loads the library by name', () => {
  const core = packages.find(({ pkg }) => pkg.name === '@cachelock/core')!
  const bin = join(app, 'node_modules', '@cachelock', 'core', core.pkg.bin.cachelock as string)
  expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true)
  expect(execFileSync(process.execPath, [bin, '--version'], { cwd: app, encoding: 'utf8' })).toBe(`${core.pkg.version}\n`)
  // The bundle holds only the CLI: the library (and its classes) come from the main entry.
  expect(readFileSync(bin, 'utf8')).toContain('require("@cachelock/core")')
  const refused = (() => {
    try {
      execFileSync(process.execPath, [bin, 'list', '--url', 'memory://'], { cwd: app, encoding: 'utf8', stdio: 'pipe' })
    } catch (error) {
      return error as { status: number; stderr: string }
    }
  })()
  expect(refused).toMatchObject({ status: 2, stderr: expect.stringMatching(/^cachelock: memory:\/\/ is a store inside one process/) })
})

it('nestjs: the built package boots a Nest application, with DI that needs no decorator metadata', () => {
  // The build (esbuild) emits no `design:paramtypes`: every injection in the package must name its token.
  const nest = JSON.stringify(join(root, 'packages', 'nestjs', 'package.json'))
  const out = node(
    'nest.mjs',
    `import { createRequire } from 'node:module'
     const fromNestjs = createRequire(${nest})
     fromNestjs('reflect-metadata')
     const { Injectable, Module } = fromNestjs('@nestjs/common')
     const { NestFactory } = fromNestjs('@nestjs/core')
     const { LockManager } = await import('@cachelock/core')
     const { CachelockModule, InjectLocks, WithLock } = await import('@cachelock/nestjs')
     const cjs = createRequire(import.meta.url)('@cachelock/nestjs')
     class Jobs {
       constructor(locks) { this.locks = locks }
       async run() { return this.locks.isLocked('nightly') }
     }
     InjectLocks()(Jobs, undefined, 0)
     // What TypeScript's __decorate does with a method decorator's result.
     const descriptor = Object.getOwnPropertyDescriptor(Jobs.prototype, 'run')
     Object.defineProperty(Jobs.prototype, 'run', WithLock('nightly', { skipIfLocked: true })(Jobs.prototype, 'run', descriptor) ?? descriptor)
     Injectable()(Jobs)
     class AppModule {}
     Module({ imports: [cjs.CachelockModule.forRoot({ store: 'memory://' })], providers: [Jobs] })(AppModule)
     const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false })
     const jobs = app.get(Jobs)
     const result = [jobs.locks === app.get(LockManager), await jobs.run(), CachelockModule === cjs.CachelockModule]
     await app.close()
     console.log(JSON.stringify(result))`,
  )
  expect(JSON.parse(out)).toEqual([true, true, true])
})
