import 'reflect-metadata'
import { LockManager, MemoryStore, OpenStore } from '@cachelock/core'
import { CachelockModule, WithLock } from '@cachelock/nestjs'
import { overrideLockStore } from '@cachelock/nestjs/testing'
import { Injectable, Module } from '@nestjs/common'
import { Test } from '@nestjs/testing'
import { describe, expect, it } from 'vitest'

@Injectable()
class Reports {
  @WithLock('report')
  async build(locks: LockManager): Promise<boolean> {
    return locks.isLocked('report')
  }
}

// Configured for production: a Redis nobody runs in unit tests (nothing listens on port 1).
@Module({
  imports: [CachelockModule.forRoot({ store: 'redis://127.0.0.1:1', prefix: 'shop:lock:', ttl: 12_345 })],
  providers: [Reports],
})
class AppModule {}

describe('overrideLockStore', () => {
  it('swaps in a memory store and keeps the other options', async () => {
    const moduleRef = await overrideLockStore(Test.createTestingModule({ imports: [AppModule] })).compile()
    try {
      const locks = moduleRef.get(LockManager)
      expect(locks.store).toBeInstanceOf(MemoryStore)
      expect(locks.prefix).toBe('shop:lock:')
      // Locks work, in this process only, with no Redis.
      expect(await moduleRef.get(Reports).build(locks)).toBe(true)
    } finally {
      await moduleRef.close()
    }
  })

  it('takes the store to use instead', async () => {
    const store = new OpenStore()
    const moduleRef = await overrideLockStore(Test.createTestingModule({ imports: [AppModule] }), store).compile()
    try {
      expect(moduleRef.get(LockManager).store).toBe(store)
    } finally {
      await moduleRef.close()
    }
  })
})
