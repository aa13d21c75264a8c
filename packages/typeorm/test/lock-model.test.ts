import 'reflect-metadata'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ts from 'typescript'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { InvalidLockArgumentError, createLockManager, type LockManager } from '@cachelock/core'
import { recordLockName } from '@cachelock/core/adapter-kit'
import { LockModel, LockedRowError, installModelLocks, lockableRepository } from '@cachelock/typeorm'
import { DataSource, EntitySchema } from 'typeorm'
import type { EntityClass } from './support/env.js'
import { rejection } from './support/helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'cachelock-lock-model-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// A class decorated with @LockModel, compiled by TypeScript itself in each decorator mode, so every
// code path of the decorator runs for real. TypeORM's own decorators only exist in the legacy mode,
// so the table is mapped with an EntitySchema targeting the class.
const source = `
@LockModel('sku', { model: 'Gadget' })
class Gizmo {
  id: number
  sku: string
  stock: number
}
exports.Gizmo = Gizmo
`

type Mode =
  'experimentalDecorators + emitDecoratorMetadata' | 'experimentalDecorators' | 'standard decorators' | 'plain JavaScript, by hand'

function compile(mode: Mode, decorator: typeof LockModel): EntityClass {
  const exports: Record<string, EntityClass> = {}
  if (mode === 'plain JavaScript, by hand') {
    class Gizmo {
      declare sku: string // for TypeScript only, which checks the field exists
    }
    decorator('sku', { model: 'Gadget' })(Gizmo)
    return Gizmo
  }
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      experimentalDecorators: mode !== 'standard decorators',
      emitDecoratorMetadata: mode === 'experimentalDecorators + emitDecoratorMetadata',
    },
  })
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  new Function('exports', 'LockModel', outputText)(exports, decorator)
  return exports.Gizmo!
}

let file = 0
async function dataSourceFor(target: EntityClass, locks: LockManager, install = installModelLocks) {
  const schema = new EntitySchema({
    name: 'Gizmo',
    target,
    columns: {
      id: { type: Number, primary: true, generated: true },
      sku: { type: String, unique: true },
      stock: { type: Number },
    },
  })
  const dataSource = new DataSource({ type: 'better-sqlite3', database: join(dir, `${++file}.db`), entities: [schema], synchronize: true })
  install(dataSource, { locks })
  return dataSource.initialize()
}

describe('@LockModel', () => {
  for (const mode of [
    'experimentalDecorators + emitDecoratorMetadata',
    'experimentalDecorators',
    'standard decorators',
    'plain JavaScript, by hand',
  ] as const) {
    it(`works with ${mode}`, async () => {
      const Gizmo = compile(mode, LockModel)
      const locks = createLockManager()
      const dataSource = await dataSourceFor(Gizmo, locks)
      const gizmos = dataSource.getRepository(Gizmo).extend(lockableRepository)
      await gizmos.insert({ sku: 'A-1', stock: 1 })
      expect(await gizmos.withLock('A-1', (_, __, lock) => lock.name)).toBe('gadget:sku:A-1')
      // The guard is on (the decorator's default): another holder's lock blocks a save.
      const other = await locks.acquire(recordLockName('Gadget', { sku: 'A-1' }))
      expect(await rejection(gizmos.save({ ...(await gizmos.findOneByOrFail({ sku: 'A-1' })), stock: 0 }))).toBeInstanceOf(LockedRowError)
      await other.release()
      await dataSource.destroy()
    })
  }

  it("is inherited by subclasses, with the decorated class's model name", async () => {
    const Gizmo = compile('experimentalDecorators', LockModel)
    class SubGizmo extends Gizmo {}
    const dataSource = await dataSourceFor(SubGizmo, createLockManager())
    const gizmos = dataSource.getRepository(SubGizmo).extend(lockableRepository)
    await gizmos.insert({ sku: 'C-3', stock: 1 })
    expect(await gizmos.withLock('C-3', (_, __, lock) => lock.name)).toBe('gadget:sku:C-3')
    await dataSource.destroy()
  })

  it('is shared by two copies of the package loaded in one process', async () => {
    vi.resetModules()
    const copy = await import('@cachelock/typeorm')
    expect(copy.LockModel).not.toBe(LockModel) // really another copy of the module
    const Gizmo = compile('experimentalDecorators', copy.LockModel) // decorated by the second copy...
    const locks = createLockManager()
    const dataSource = await dataSourceFor(Gizmo, locks) // ...installed by the first
    const gizmos = dataSource.getRepository(Gizmo).extend(lockableRepository)
    await gizmos.insert({ sku: 'B-2', stock: 1 })
    expect(await gizmos.withLock({ sku: 'B-2' }, (_, __, lock) => lock.name)).toBe('gadget:sku:B-2')
    const other = await locks.acquire('gadget:sku:B-2')
    expect(await rejection(gizmos.save({ ...(await gizmos.findOneByOrFail({ sku: 'B-2' })), stock: 0 }))).toBeInstanceOf(LockedRowError)
    await other.release()
    await dataSource.destroy()
  })

  it('rejects bad arguments, naming them', () => {
    const cases: [() => unknown, string][] = [
      [() => LockModel(''), 'field'],
      [() => LockModel(42 as never), 'field'],
      [() => LockModel([]), 'field'],
      [() => LockModel(['a', 'a']), 'field'],
      [() => LockModel(['a', '']), 'field[1]'],
      [() => LockModel('sku', { guard: 'no' } as never), 'options.guard'],
      [() => LockModel('sku', { fence: '' }), 'options.fence'],
      [() => LockModel('sku', { model: 7 } as never), 'options.model'],
      [() => LockModel('sku', { gaurd: false } as never), 'options.gaurd'],
      [() => LockModel('sku')('not a class' as never), '@LockModel'],
      [() => LockModel()(class {}, { kind: 'method', name: 'm' }), '@LockModel'],
    ]
    for (const [call, argument] of cases) {
      let error: unknown
      try {
        call()
      } catch (e) {
        error = e
      }
      expect(error, argument).toBeInstanceOf(InvalidLockArgumentError)
      expect((error as InvalidLockArgumentError).argument).toBe(argument)
    }
  })
})
