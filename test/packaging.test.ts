import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contendedLockOutcome, contendedLockScript, serverUrl } from './support/contended-lock.js'
import { consumerSource } from './support/packaging-consumer.js'
import { installLines, runInstallLines, type InstallLine, type InstalledApp } from './support/install-lines.js'
import {
  loadBothWays,
  loadEntry,
  npmApp,
  npmEnv,
  pack,
  publicPackages,
  root,
  runIn,
  workspaceRange,
  type Manifest,
  type Packed,
} from './support/npm-app.js'

// The packages as a user gets them: packed by the release flow (pnpm pack, as `pnpm publish` and
// `changeset publish` pack), installed with npm from the tarballs into an app outside the
// workspace, beside the peers a user installs from the registry. Then every entry is imported from
// ESM and CommonJS, a consumer is type-checked against the published types, and real locks run.

const work = mkdtempSync(join(tmpdir(), 'cachelock-packaging-'))
const app = join(work, 'app')
let packed: Packed[] = []

// What an app using every package installs. ioredis 5: TypeORM (0.3 and 1.x) declares an optional
// peer on ioredis ^5, so npm refuses ioredis 6 beside it (cachelock takes either; the README says
// so). TypeORM 0.3: the line @nestjs/typeorm 11 supports, and within the TypeORM adapter's range.
const peers = [
  'ioredis@^5.4.0',
  `memjs@${workspaceRange('memjs')}`,
  `@types/memjs@${workspaceRange('@types/memjs')}`,
  `@prisma/client@${workspaceRange('@prisma/client')}`,
  `typeorm@${workspaceRange('typeorm', 'nestjs')}`,
  ...['@nestjs/common', '@nestjs/core', '@nestjs/typeorm', 'reflect-metadata', 'rxjs', '@types/node'].map(
    (name) => `${name}@${workspaceRange(name)}`,
  ),
]

beforeAll(() => {
  packed = pack(publicPackages(), join(work, 'tarballs'))
  npmApp(app, [...packed.map(({ tarball }) => tarball), ...peers])
}, 600_000)

afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('the tarballs', () => {
  it('are every public package, in build order', () => {
    expect(packed.map(({ pkg }) => pkg.name)).toEqual(['@cachelock/core', '@cachelock/prisma', '@cachelock/typeorm', '@cachelock/nestjs'])
  })

  it('hold a LICENSE, a README, package.json and every file their exports and bin name', () => {
    for (const { pkg, files } of packed) {
      const named = [
        ...Object.values(pkg.bin ?? {}),
        ...Object.values(pkg.exports).flatMap((target) =>
          typeof target === 'string' ? [target] : [...Object.values(target.import), ...Object.values(target.require)],
        ),
      ]
      expect(files, pkg.name).toEqual(
        expect.arrayContaining(['LICENSE', 'README.md', 'package.json', ...named.map((file) => file.slice(2))]),
      )
      // Besides dist/, only core's bin launcher (committed, so the bin exists before a build).
      const launchers = Object.values(pkg.bin ?? {}).map((file) => file.slice(2))
      expect(files.filter((file) => !file.startsWith('dist/')).sort(), pkg.name).toEqual(
        ['LICENSE', 'README.md', 'package.json', ...launchers].sort(),
      )
    }
  })

  it('name their workspace dependencies by version, not `workspace:`', () => {
    for (const { pkg, published } of packed) {
      const ranges = { ...published.dependencies, ...published.peerDependencies }
      expect(JSON.stringify(published), pkg.name).not.toContain('workspace:')
      for (const [name, range] of Object.entries(ranges).filter(([name]) => name.startsWith('@cachelock/')))
        expect(range, `${pkg.name} → ${name}`).toBe(`^${packed.find((entry) => entry.pkg.name === name)!.pkg.version}`)
    }
  })

  it('declare what a published package needs', () => {
    for (const { pkg } of packed) {
      expect(pkg.sideEffects).toBe(false)
      expect(pkg.files).toEqual(pkg.bin ? ['bin', 'dist'] : ['dist'])
      for (const launcher of Object.values(pkg.bin ?? {})) expect(launcher, pkg.name).toMatch(/^\.\/bin\/[\w-]+\.cjs$/)
      expect(pkg.engines?.node).toBe('>=20.19')
      expect(pkg.publishConfig?.access).toBe('public')
      for (const target of Object.values(pkg.exports))
        if (typeof target !== 'string') for (const branch of [target.import, target.require]) expect(Object.keys(branch)[0]).toBe('types')
    }
  })
})

describe('installed with npm', () => {
  it('every entry loads the same classes through import and require', () => {
    for (const { pkg } of packed) {
      for (const subpath of Object.keys(pkg.exports).filter((key) => key !== './package.json')) {
        const specifier = pkg.name + subpath.slice(1)
        expect(loadBothWays(app, specifier), specifier).toEqual([])
      }
    }
  })

  it('type-checks a consumer of every entry in both module systems, library types included', () => {
    writeFileSync(join(app, 'consumer.mts'), consumerSource)
    writeFileSync(join(app, 'consumer.cts'), consumerSource)
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          types: ['node'],
        },
        files: ['consumer.mts', 'consumer.cts'],
      }),
    )
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    const result = (() => {
      try {
        return execFileSync(process.execPath, [tsc, '-p', app], { encoding: 'utf8', stdio: 'pipe' })
      } catch (error) {
        return (error as { stdout: string }).stdout
      }
    })()
    expect(result).toBe('')
  }, 180_000)

  it('every exported class keeps its own name (logs show `LockNotAcquiredError`, not `_class2`)', () => {
    const specifiers = packed.flatMap(({ pkg }) =>
      Object.keys(pkg.exports)
        .filter((key) => key !== './package.json' && key !== './testing')
        .map((subpath) => pkg.name + subpath.slice(1)),
    )
    const out = runIn(
      app,
      'class-names.cjs',
      `const renamed = []
       for (const specifier of ${JSON.stringify(specifiers)}) {
         for (const [exported, value] of Object.entries(require(specifier))) {
           if (typeof value === 'function' && /^class\\b/.test(Function.prototype.toString.call(value)) && value.name !== exported)
             renamed.push(specifier + ': ' + exported + ' is named ' + value.name)
         }
       }
       const { LockNotAcquiredError } = require('@cachelock/core')
       console.log(JSON.stringify({ renamed, logged: require('node:util').inspect(new LockNotAcquiredError('a')).split('\\n')[0] }))`,
    )
    expect(JSON.parse(out)).toEqual({ renamed: [], logged: 'LockNotAcquiredError: Lock "a" was not acquired' })
  })

  it('core: an error made by the CommonJS side is an instance of the ESM side’s class', () => {
    const out = runIn(
      app,
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

  it.each(['memory', 'redis'])('core: a real lock on the %s store, from ESM and from CommonJS', (store) => {
    const env = { ...npmEnv(), ...(store === 'redis' ? { STORE_URL: serverUrl('CACHELOCK_TEST_REDIS_URL') } : {}) }
    for (const moduleSystem of ['esm', 'cjs'] as const) {
      const out = runIn(app, `lock.${moduleSystem === 'esm' ? 'mjs' : 'cjs'}`, contendedLockScript(moduleSystem), env)
      expect(JSON.parse(out), moduleSystem).toEqual(contendedLockOutcome)
    }
  })

  it('core: the `cachelock` bin runs from the installed package and loads the library by name', () => {
    const core = packed.find(({ pkg }) => pkg.name === '@cachelock/core')!
    const installed = join(app, 'node_modules', '@cachelock', 'core')
    // The bin is a committed launcher that exists before any build; it runs the built CLI.
    const launcher = readFileSync(join(installed, core.pkg.bin!.cachelock!), 'utf8')
    expect(launcher.startsWith('#!/usr/bin/env node\n')).toBe(true)
    expect(launcher).toContain("require.resolve('../dist/cli.cjs')")
    // The bundle holds only the CLI: the library (and its classes) come from the main entry.
    expect(readFileSync(join(installed, 'dist', 'cli.cjs'), 'utf8')).toContain('require("@cachelock/core")')
    // What `npx cachelock` runs: the link npm made.
    const bin = join(app, 'node_modules', '.bin', 'cachelock')
    expect(execFileSync(bin, ['--version'], { cwd: app, encoding: 'utf8', env: npmEnv() })).toBe(`${core.pkg.version}\n`)
    expect(execFileSync('npx', ['--no-install', 'cachelock', '--help'], { cwd: app, encoding: 'utf8', env: npmEnv() })).toMatch(
      /^Usage: cachelock /m,
    )
    const refused = (() => {
      try {
        execFileSync(bin, ['list', '--url', 'memory://'], { cwd: app, encoding: 'utf8', stdio: 'pipe', env: npmEnv() })
      } catch (error) {
        return error as { status: number; stderr: string }
      }
    })()
    expect(refused).toMatchObject({ status: 2, stderr: expect.stringMatching(/^cachelock: memory:\/\/ is a store inside one process/) })
  })

  it('nestjs: boots a Nest application, with DI that needs no decorator metadata', () => {
    // The build (esbuild) emits no `design:paramtypes`: every injection in the package must name its token.
    const out = runIn(
      app,
      'nest.mjs',
      `import 'reflect-metadata'
       import { createRequire } from 'node:module'
       import { Injectable, Module } from '@nestjs/common'
       import { NestFactory } from '@nestjs/core'
       import { LockManager } from '@cachelock/core'
       import { CachelockModule, InjectLocks, WithLock } from '@cachelock/nestjs'
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
       const nest = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false })
       const jobs = nest.get(Jobs)
       const result = [jobs.locks === nest.get(LockManager), await jobs.run(), CachelockModule === cjs.CachelockModule]
       await nest.close()
       console.log(JSON.stringify(result))`,
    )
    expect(JSON.parse(out)).toEqual([true, true, true])
  })
})

// Every README's install lines, run as written: each ```sh block in order in an app of its own
// (a block that several READMEs show, once), the packed tarballs standing in for the registry's
// @cachelock packages. Then what the lines installed works: every entry of each @cachelock package
// loads from ESM and CommonJS (or needs only an optional peer the lines did not install), and each
// store driver they installed takes a real lock on its real server.
const readmes = [join(root, 'README.md'), ...readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name, 'README.md'))]
const found = readmes.map((readme) => installLines(readme))
const blocks = new Map<string, { lines: InstallLine[]; shownAt: string[] }>()
for (const lines of found.flatMap(({ sequences }) => sequences)) {
  const key = lines.map(({ args }) => `npm install ${args.join(' ')}`).join('; ')
  const block = blocks.get(key) ?? blocks.set(key, { lines, shownAt: [] }).get(key)!
  block.shownAt.push(lines[0]!.where)
}
const storeUrls: Record<string, (app: string) => string> = {
  ioredis: () => serverUrl('CACHELOCK_TEST_REDIS_URL'),
  memjs: () => serverUrl('CACHELOCK_TEST_MEMCACHED_URL'),
  pg: () => serverUrl('CACHELOCK_TEST_PG_URL'),
  mysql2: () => serverUrl('CACHELOCK_TEST_MYSQL_URL'),
  'better-sqlite3': (app) => `sqlite://${join(app, 'locks.db')}`,
}

describe('the READMEs’ install lines, run with npm', () => {
  const installs = new Map<string, Promise<InstalledApp>>()
  beforeAll(() => {
    // Concurrently: npm mostly waits on the registry (better-sqlite3 compiles, about a minute).
    const tarballs = new Map(packed.map(({ pkg, tarball }) => [pkg.name, tarball]))
    ;[...blocks].forEach(([key, { lines }], index) => {
      const installed = runInstallLines(join(work, `readme-${index}`), lines, tarballs)
      installed.catch(() => {}) // reported by its own test
      installs.set(key, installed)
    })
  })

  it('are npm install lines in sh blocks, in every package’s README', () => {
    expect(found.flatMap(({ errors }) => errors)).toEqual([])
    for (const [index, readme] of readmes.entries()) expect(found[index]!.sequences.length, readme).toBeGreaterThan(0)
  })

  it.each([...blocks].map(([key, { shownAt }]) => [key, shownAt.join(', ')]))(
    '%s (%s)',
    async (key) => {
      const { dir, lock, dependencies } = await installs.get(key)!
      const ours = Object.entries(lock.packages).filter(([path]) => /(^|\/)node_modules\/@cachelock\//.test(path))
      for (const [path, { resolved }] of ours) {
        // Nothing named @cachelock came from the registry, and there is one copy of each.
        expect(resolved, path).toMatch(/^file:.*\.tgz$/)
        expect(path).toMatch(/^node_modules\/@cachelock\/[^/]+$/)
      }
      for (const [path] of ours) {
        const pkg = JSON.parse(readFileSync(join(dir, path, 'package.json'), 'utf8')) as Manifest
        for (const subpath of Object.keys(pkg.exports).filter((key) => key !== './package.json'))
          expect(loadEntry(dir, pkg, subpath), pkg.name + subpath.slice(1)).toEqual([])
      }
      for (const driver of dependencies.filter((name) => name in storeUrls)) {
        const env = { ...npmEnv(), STORE_URL: storeUrls[driver]!(dir) }
        for (const moduleSystem of ['esm', 'cjs'] as const) {
          const out = runIn(dir, `lock.${moduleSystem === 'esm' ? 'mjs' : 'cjs'}`, contendedLockScript(moduleSystem), env)
          expect(JSON.parse(out), `${driver} from ${moduleSystem}`).toEqual(contendedLockOutcome)
        }
      }
    },
    900_000,
  )
})
