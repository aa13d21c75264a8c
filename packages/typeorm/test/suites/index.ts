import { expect, it } from 'vitest'
import { ormVersion } from '../support/orm.js'
import type { Env } from '../support/env.js'
import { badInputSuite } from './bad-input.js'
import { earlyTransactionSuite } from './early-transaction.js'
import { fenceSuite } from './fence.js'
import { fenceClaimSuite } from './fence-claim.js'
import { guardSuite } from './guard.js'
import { installSuite } from './install.js'
import { keepAliveSuite } from './keep-alive.js'
import { lockOrderSuite } from './lock-order.js'
import { lostLockSuite } from './lost-lock.js'
import { lostRollbackSuite } from './lost-rollback.js'
import { missingRowsSuite } from './missing-rows.js'
import { namesSuite } from './names.js'
import { unlockedWritesSuite } from './unlocked-writes.js'
import { untilTransactionSuite } from './until-transaction.js'
import { withLockSuite } from './with-lock.js'

/** Every behaviour of the adapter, against one database, store and TypeORM line. */
export function adapterSuites(env: Env): void {
  it(`runs on the TypeORM line it names (${env.config.line})`, async () => {
    expect(ormVersion(env.config.line).startsWith(env.config.line === '1.x' ? '1.' : '0.3.')).toBe(true)
    expect(env.dataSource).toBeInstanceOf(env.orm.DataSource)
    expect(env.orm.DataSource === (await import('typeorm')).DataSource).toBe(env.config.line === '1.x')
  })
  withLockSuite(env)
  namesSuite(env)
  guardSuite(env)
  untilTransactionSuite(env)
  installSuite(env)
  badInputSuite(env)
  // Issue 10: safety beyond the lock.
  fenceSuite(env)
  // Issue 22: the claim before the read.
  fenceClaimSuite(env)
  // Issue 13 §5: unlocked saves of a fenced entity.
  unlockedWritesSuite(env)
  lostLockSuite(env)
  missingRowsSuite(env)
  lockOrderSuite(env)
  // Issue 13.
  keepAliveSuite(env)
  lostRollbackSuite(env)
  // Issue 20: BEGIN beside the acquire, never a connection held while waiting.
  earlyTransactionSuite(env)
}
