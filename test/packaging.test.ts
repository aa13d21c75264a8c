import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { npmApp, pack, publicPackages, root, runIn, workspaceRange, type Packed } from './support/npm-app.js'

// The packages as a user gets them: packed by the release flow (pnpm pack, as `pnpm publish` and
// `changeset publish` pack), installed with npm from the tarballs into an app outside the
// workspace, beside the peers a user installs from the registry. Then every entry is imported from
// ESM and CommonJS, a consumer is type-checked against the published types, and real locks run.

const work = mkdtempSync(join(tmpdir(), 'cachelock-packaging-'))
const app = join(work, 'app')
const redisUrl = process.env.CACHELOCK_TEST_REDIS_URL
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
      expect(files.filter((file) => !file.startsWith('dist/')).sort(), pkg.name).toEqual(['LICENSE', 'README.md', 'package.json'])
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
      expect(pkg.files).toEqual(['dist'])
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
        const out = runIn(
          app,
          'both.mjs',
          `import { createRequire } from 'node:module'
           const esm = await import(${JSON.stringify(specifier)})
           const cjs = createRequire(import.meta.url)(${JSON.stringify(specifier)})
           const names = Object.keys(cjs).filter((n) => n !== '__esModule')
           const differ = names.filter((n) => esm[n] !== cjs[n])
           console.log(JSON.stringify({ names: names.length, esmNames: Object.keys(esm).length, differ }))`,
        )
        const result = JSON.parse(out) as { names: number; esmNames: number; differ: string[] }
        expect(result.differ, specifier).toEqual([])
        expect(result.names, specifier).toBeGreaterThan(0)
        expect(result.esmNames, specifier).toBe(result.names)
      }
    }
  })

  it('type-checks a consumer of every entry in both module systems, library types included', () => {
    const consumer = `import { createLockManager, MemcachedStore, RedisStore, type Lock } from '@cachelock/core'
import { lockStoreContract } from '@cachelock/core/testing'
import { lockExtension } from '@cachelock/prisma'
import { LockModel, lockableRepository } from '@cachelock/typeorm'
import { CachelockModule, WithLock } from '@cachelock/nestjs'
import { CachelockTypeOrmModule } from '@cachelock/nestjs/typeorm'
import { overrideLockStore } from '@cachelock/nestjs/testing'
import { Redis } from 'ioredis'
import memjs from 'memjs'
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm'
import { Injectable, Module } from '@nestjs/common'

export async function consumer(): Promise<number> {
  const locks = createLockManager({ store: new RedisStore(new Redis({ lazyConnect: true })) })
  const memcached = createLockManager({ store: new MemcachedStore(memjs.Client.create('localhost:11211')) })
  const token: number = await locks.withLock('a', async (lock: Lock) => lock.fencingToken)
  // @ts-expect-error: a misspelt option is refused by the published types too
  await memcached.withLock('a', async () => 1, { timout: 5 })

  @Entity()
  @LockModel('sku')
  class Product {
    @PrimaryGeneratedColumn() id!: number
    @Column() sku!: string
  }
  const products = new DataSource({ type: 'postgres' }).getRepository(Product).extend(lockableRepository)
  const sku: string = await products.withLock({ sku: 'A-1' }, async (product) => product.sku)

  @Injectable()
  class Jobs {
    @WithLock('nightly', { skipIfLocked: true })
    async run(): Promise<void> {}
  }
  @Module({ imports: [CachelockModule.forRoot({ store: 'memory://' }), CachelockTypeOrmModule.forRoot()], providers: [Jobs] })
  class AppModule {}

  void [lockExtension({ locks, models: { Product: { by: 'sku' } } }), lockStoreContract, overrideLockStore, AppModule, sku]
  return token
}
`
    writeFileSync(join(app, 'consumer.mts'), consumer)
    writeFileSync(join(app, 'consumer.cts'), consumer)
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

  it.each(['memory', ...(redisUrl ? ['redis'] : [])])('core: a real lock on the %s store, from ESM and from CommonJS', (store) => {
    // Two managers (on Redis: two connections) contend for one name: the second sees the first's
    // lock and gets it only after the release.
    const body = (load: string) => `${load}
      const url = process.env.STORE_URL
      const a = createLockManager({ store: url ?? new MemoryStore(), prefix: 'packaging:' })
      const b = url ? createLockManager({ store: url, prefix: 'packaging:' }) : createLockManager({ store: a.store, prefix: 'packaging:' })
      const name = 'order:' + process.pid
      const seen = await a.withLock(name, async (lock) => [lock.fencingToken > 0, await b.isLocked(name), await b.tryAcquire(name)])
      const after = await b.tryAcquire(name)
      seen.push(after !== null, await a.isLocked(name))
      await after.release()
      await Promise.all([a.close(), b.close()])
      console.log(JSON.stringify(seen))`
    const env = { ...process.env, ...(store === 'redis' ? { STORE_URL: redisUrl } : {}) }
    const esm = runIn(app, 'lock.mjs', body(`import { createLockManager, MemoryStore } from '@cachelock/core'`), env)
    const cjs = runIn(
      app,
      'lock.cjs',
      `(async () => {${body(`const { createLockManager, MemoryStore } = require('@cachelock/core')`)}})()`,
      env,
    )
    for (const out of [esm, cjs]) expect(JSON.parse(out)).toEqual([true, true, null, true, true])
  })

  it('core: the `cachelock` bin runs from the installed package and loads the library by name', () => {
    const core = packed.find(({ pkg }) => pkg.name === '@cachelock/core')!
    const bundle = join(app, 'node_modules', '@cachelock', 'core', core.pkg.bin!.cachelock!)
    expect(readFileSync(bundle, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true)
    // The bundle holds only the CLI: the library (and its classes) come from the main entry.
    expect(readFileSync(bundle, 'utf8')).toContain('require("@cachelock/core")')
    // What `npx cachelock` runs: the link npm made.
    const bin = join(app, 'node_modules', '.bin', 'cachelock')
    expect(execFileSync(bin, ['--version'], { cwd: app, encoding: 'utf8' })).toBe(`${core.pkg.version}\n`)
    const refused = (() => {
      try {
        execFileSync(bin, ['list', '--url', 'memory://'], { cwd: app, encoding: 'utf8', stdio: 'pipe' })
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
