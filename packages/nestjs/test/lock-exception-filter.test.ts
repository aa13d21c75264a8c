import 'reflect-metadata'
import { LockLostError, LockManager, createLockManager } from '@cachelock/core'
import { CachelockModule, LockExceptionFilter, lockHttpException } from '@cachelock/nestjs'
import { Controller, Get, Module, NotFoundException, type INestApplication } from '@nestjs/common'
import { APP_FILTER } from '@nestjs/core'
import { EntityNotFoundError } from 'typeorm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApp } from './support/app.js'

class PrismaClientKnownRequestError extends Error {
  override name = 'PrismaClientKnownRequestError'
  constructor(readonly code: string) {
    super('No record was found for an update.')
  }
}

// Nothing listens on port 1: a store whose every call fails, as during a Redis outage.
const downStore = createLockManager({ store: 'redis://127.0.0.1:1' })

@Controller()
class ErrorsController {
  constructor(private readonly locks: LockManager) {}

  @Get('taken')
  async taken() {
    let release!: () => void
    const held = this.locks.withLock('order:id:42', () => new Promise<void>((resolve) => (release = resolve)))
    try {
      return await this.locks.withLock('order:id:42', () => 'never', { timeout: 0 })
    } finally {
      release()
      await held
    }
  }

  @Get('lost')
  lost() {
    throw new LockLostError('order:id:42', 'expired')
  }

  @Get('store-down')
  storeDown() {
    return downStore.withLock('order:id:42', () => 'never')
  }

  @Get('typeorm-missing')
  typeormMissing() {
    throw new EntityNotFoundError('Order', { id: 42 })
  }

  @Get('prisma-missing')
  prismaMissing() {
    throw new PrismaClientKnownRequestError('P2025')
  }

  @Get('http')
  http() {
    throw new NotFoundException('no such order')
  }

  @Get('other')
  other() {
    throw new Error('a bug')
  }
}

@Module({
  imports: [CachelockModule.forRoot({ store: 'memory://' })],
  controllers: [ErrorsController],
  providers: [{ provide: APP_FILTER, useClass: LockExceptionFilter }],
})
class AppModule {}

let app: INestApplication
let url: string
beforeAll(async () => ({ app, url } = await startApp(AppModule)))
afterAll(() => Promise.all([app?.close(), downStore.close()]))

const get = async (path: string) => {
  const response = await fetch(`${url}/${path}`)
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

describe('LockExceptionFilter', () => {
  it.each([
    ['taken', 409, 'LOCK_NOT_ACQUIRED'],
    ['lost', 503, 'LOCK_LOST'],
    ['store-down', 503, 'LOCK_STORE_ERROR'],
    ['typeorm-missing', 404, 'NOT_FOUND'],
    ['prisma-missing', 404, 'NOT_FOUND'],
  ])('answers %s with %i', async (path, status, code) => {
    const { status: got, body } = await get(path)
    expect(got).toBe(status)
    expect(body).toMatchObject({ statusCode: status, code })
    expect(typeof body['message']).toBe('string')
    // Lock names are internal: they stay out of the answer.
    expect(JSON.stringify(body)).not.toContain('order:id:42')
  })

  it('leaves HttpExceptions and other errors to Nest', async () => {
    expect(await get('http')).toEqual({ status: 404, body: { statusCode: 404, message: 'no such order', error: 'Not Found' } })
    expect(await get('other')).toEqual({ status: 500, body: { statusCode: 500, message: 'Internal server error' } })
  })
})

describe('lockHttpException', () => {
  it('maps a LockedRowError by its code, and nothing else', () => {
    const rowError = Object.assign(new Error('held'), { name: 'LockedRowError', code: 'LOCK_HELD' })
    expect(lockHttpException(rowError)?.getStatus()).toBe(409)
    expect(lockHttpException(new Error('x'))).toBeUndefined()
    expect(lockHttpException('a string')).toBeUndefined()
    expect(lockHttpException(Object.assign(new Error('x'), { code: 'P2002' }))).toBeUndefined()
  })

  it('keeps the original error as the cause', () => {
    const lost = new LockLostError('x', 'stolen')
    expect(lockHttpException(lost)?.cause).toBe(lost)
  })
})
