import 'reflect-metadata'
import { Locked, type LockManager } from '@cachelock/core'
import { CachelockModule, InjectLocks, WithLock } from '@cachelock/nestjs'
import { Controller, Injectable, Module, Post, UseGuards, type CanActivate, type INestApplication } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { Cron, ScheduleModule, SchedulerRegistry } from '@nestjs/schedule'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Core's @Locked and this package's @WithLock, written above and below NestJS's own decorators in a
// real application: a route must still answer, a cron job must still be registered, stacked guards
// must all run, and each call must run under its lock, taken in the injected manager.

const guardCalls: string[] = []
class OuterGuard implements CanActivate {
  canActivate() {
    guardCalls.push('outer')
    return true
  }
}
class InnerGuard implements CanActivate {
  canActivate() {
    guardCalls.push('inner')
    return true
  }
}

@Controller('orders')
class OrdersController {
  constructor(@InjectLocks() readonly locks: LockManager) {}

  @Locked('locked-above', { locks: (self: OrdersController) => self.locks })
  @Post('locked-above')
  async lockedAbove() {
    return { held: await this.locks.isLocked('locked-above') }
  }

  @Post('locked-below')
  @Locked('locked-below', { locks: (self: OrdersController) => self.locks })
  async lockedBelow() {
    return { held: await this.locks.isLocked('locked-below') }
  }

  @WithLock('with-above')
  @Post('with-above')
  async withAbove() {
    return { held: await this.locks.isLocked('with-above') }
  }

  @Post('with-below')
  @WithLock('with-below')
  async withBelow() {
    return { held: await this.locks.isLocked('with-below') }
  }

  @UseGuards(OuterGuard)
  @WithLock('guarded')
  @UseGuards(InnerGuard)
  @Post('guarded')
  async guarded() {
    return { held: await this.locks.isLocked('guarded') }
  }
}

// Yearly schedules: the test fires them by hand.
const YEARLY = '0 0 1 1 *'

@Injectable()
class Jobs {
  readonly runs = new Map<string, boolean>()
  constructor(@InjectLocks() readonly locks: LockManager) {}

  @Locked('job:locked-above', { locks: (self: Jobs) => self.locks })
  @Cron(YEARLY, { name: 'locked-above' })
  async lockedAbove() {
    this.runs.set('locked-above', await this.locks.isLocked('job:locked-above'))
  }

  @Cron(YEARLY, { name: 'locked-below' })
  @Locked('job:locked-below', { locks: (self: Jobs) => self.locks })
  async lockedBelow() {
    this.runs.set('locked-below', await this.locks.isLocked('job:locked-below'))
  }

  @WithLock('job:with-above', { skipIfLocked: true })
  @Cron(YEARLY, { name: 'with-above' })
  async withAbove() {
    this.runs.set('with-above', await this.locks.isLocked('job:with-above'))
  }

  @Cron(YEARLY, { name: 'with-below' })
  @WithLock('job:with-below', { skipIfLocked: true })
  async withBelow() {
    this.runs.set('with-below', await this.locks.isLocked('job:with-below'))
  }
}

@Module({
  imports: [CachelockModule.forRoot({ store: 'memory://' }), ScheduleModule.forRoot()],
  controllers: [OrdersController],
  providers: [Jobs],
})
class AppModule {}

let app: INestApplication
let url: string

beforeAll(async () => {
  app = await NestFactory.create(AppModule, { logger: false })
  await app.listen(0, '127.0.0.1')
  url = await app.getUrl()
})
afterAll(() => app?.close())

describe.each(['locked-above', 'locked-below', 'with-above', 'with-below'])('route %s', (route) => {
  it('answers, under its lock', async () => {
    const response = await fetch(`${url}/orders/${route}`, { method: 'POST' })
    expect(response.status).toBe(201)
    expect(await response.json()).toEqual({ held: true })
  })
})

it('runs every guard stacked around @WithLock', async () => {
  guardCalls.length = 0
  const response = await fetch(`${url}/orders/guarded`, { method: 'POST' })
  expect(response.status).toBe(201)
  expect(await response.json()).toEqual({ held: true })
  expect(guardCalls.sort()).toEqual(['inner', 'outer'])
})

describe.each(['locked-above', 'locked-below', 'with-above', 'with-below'])('cron job %s', (name) => {
  it('is registered, and runs under its lock when it fires', async () => {
    const job = app.get(SchedulerRegistry).getCronJob(name)
    const jobs = app.get(Jobs)
    await job.fireOnTick()
    await expect.poll(() => jobs.runs.get(name)).toBe(true)
  })
})
