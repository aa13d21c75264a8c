import { describe } from 'vitest'
import { Locked } from '@cachelock/core'
import { resolveExtensionOptions, resolveWithLockOptions } from '../packages/prisma/src/options.js'
import { checkLockRowOptions, checkWithLockOptions } from '../packages/typeorm/src/options.js'
import { lockOptionsConformance } from './support/lock-option-conformance.js'

// Core's table of lock options reaches every adapter entry that takes lock options (NestJS's
// @WithLock runs the same conformance in packages/nestjs/test, under its decorator settings).
const prismaDefaults = resolveExtensionOptions(undefined)

describe('@Locked (core)', () => lockOptionsConformance({ handle: false, check: (options) => (Locked('k', options), undefined) }))
describe('withLock (prisma)', () =>
  lockOptionsConformance({ handle: false, check: (options) => ({ ...resolveWithLockOptions(options, prismaDefaults).lockOptions }) }))
describe('withLock (typeorm)', () =>
  lockOptionsConformance({ handle: false, check: (options) => ({ ...checkWithLockOptions(options).lockOptions }) }))
describe('lock (typeorm)', () =>
  lockOptionsConformance({ handle: true, check: (options) => ({ ...checkLockRowOptions(options).acquireOptions }) }))
