import 'reflect-metadata'
import { randomUUID } from 'node:crypto'
import type { INestApplication } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'

export const REDIS_URL = process.env.CACHELOCK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6391'

/** A prefix no other test (or earlier run) uses, so keys never collide on the shared Redis. */
export const uniquePrefix = (label: string) => `test:nestjs:${label}:${randomUUID().slice(0, 8)}:`

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A real application on a loopback port; `abortOnError: false` so a failed bootstrap throws instead of exiting. */
export async function startApp(module: Parameters<typeof NestFactory.create>[0]): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(module, { logger: false, abortOnError: false })
  await app.listen(0, '127.0.0.1')
  return { app, url: await app.getUrl() }
}
