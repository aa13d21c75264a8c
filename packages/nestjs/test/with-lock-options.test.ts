import 'reflect-metadata'
import { describe } from 'vitest'
import { WithLock } from '@cachelock/nestjs'
import { lockOptionsConformance } from '../../../test/support/lock-option-conformance.js'

// Core's table of lock options reaches @WithLock without a list of its own (test/lock-options.test.ts
// runs the same conformance on the other adapters).
describe('@WithLock', () => lockOptionsConformance({ handle: false, check: (options) => (WithLock('k', options), undefined) }))
