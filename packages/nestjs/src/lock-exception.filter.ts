import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost } from '@nestjs/common'
import { BaseExceptionFilter } from '@nestjs/core'

/** The response body the filter sends: Nest's usual shape, plus the error's stable `code`. */
export interface LockErrorResponse {
  statusCode: number
  error: string
  message: string
  code: string
}

const logger = new Logger('Cachelock')

/**
 * The HTTP answer for a lock error, or `undefined` for any other error:
 *
 * | error | status |
 * |---|---|
 * | `LockNotAcquiredError` (`timeout` ran out, `ifAvailable` found it taken), `LockedRowError` (the TypeORM guard refused a write) | 409 Conflict |
 * | `LockLostError` (lost before the work completed), a store failure (`LOCK_STORE_ERROR`) | 503 Service Unavailable |
 * | a missing row: TypeORM's `EntityNotFoundError`, Prisma's `P2025` | 404 Not Found |
 *
 * Errors are recognised by their `code` (and name), so errors from any copy of the packages count.
 * Messages never name the lock (lock names are internal); the original error is the `cause`.
 * Store failures are logged as errors, lost locks as warnings.
 */
export function lockHttpException(error: unknown): HttpException | undefined {
  if (!(error instanceof Error)) return undefined
  const code = (error as { code?: unknown }).code
  switch (code) {
    case 'LOCK_NOT_ACQUIRED':
      return answer(error, HttpStatus.CONFLICT, 'Conflict', code, 'Another request is working on this resource; try again.')
    case 'LOCK_HELD':
      return answer(error, HttpStatus.CONFLICT, 'Conflict', code, 'Another request holds the lock on this resource; try again.')
    case 'LOCK_LOST':
      logger.warn(`${error.name}: ${error.message}`)
      return answer(
        error,
        HttpStatus.SERVICE_UNAVAILABLE,
        'Service Unavailable',
        code,
        'The lock was lost before the work completed; try again.',
      )
    case 'LOCK_STORE_ERROR':
      logger.error(error)
      return answer(error, HttpStatus.SERVICE_UNAVAILABLE, 'Service Unavailable', code, 'The lock service is unavailable; try again later.')
  }
  if (error.name === 'EntityNotFoundError') return answer(error, HttpStatus.NOT_FOUND, 'Not Found', 'NOT_FOUND', 'Not found.')
  if (error.name === 'PrismaClientKnownRequestError' && code === 'P2025') {
    return answer(error, HttpStatus.NOT_FOUND, 'Not Found', 'NOT_FOUND', 'Not found.')
  }
  return undefined
}

function answer(cause: Error, statusCode: HttpStatus, error: string, code: string, message: string): HttpException {
  const body: LockErrorResponse = { statusCode, error, message, code }
  return new HttpException(body, statusCode, { cause })
}

/**
 * An opt-in exception filter that answers lock errors as `lockHttpException` maps them and hands
 * every other error to Nest's default handling. Register it globally or per controller:
 *
 * ```ts
 * @Module({ providers: [{ provide: APP_FILTER, useClass: LockExceptionFilter }] })
 * export class AppModule {}
 * ```
 */
@Catch()
export class LockExceptionFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    super.catch(lockHttpException(exception) ?? exception, host)
  }
}
