import { InvalidLockArgumentError, type LockStore } from '../index.js'
import { USAGE, parseCliArgs, type CliArgs } from './args.js'
import { cannotList, listLocks, showLock } from './inspect.js'
import { openStore, redactUrl } from './open-store.js'
import { confirm } from './prompt.js'
import { formatTtl, lockDetails, lockTable, notHeld, printableName } from './render.js'

/** Where the CLI reads and writes: the process's streams, or a test's. */
export interface CliIo {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  stdin: NodeJS.ReadableStream
  env: NodeJS.ProcessEnv
  version: string
}

/** Exit statuses (see the usage text). */
export const EXIT = { ok: 0, failed: 1, usage: 2, declined: 3 } as const

/** The store did not answer within `--timeout`. */
class StoreTimeoutError extends Error {
  override name = 'StoreTimeoutError'
}

/** Run one `cachelock` command line; resolves the exit status. Never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const fail = (message: string) => io.stderr.write(`cachelock: ${message.replace(/\s*\n\s*/g, ' ')}\n`)
  let args: CliArgs
  try {
    args = parseCliArgs(argv, io.env)
  } catch (error) {
    fail(`${(error as Error).message} (cachelock --help for usage)`)
    return EXIT.usage
  }
  if (args.command === 'help') return (io.stdout.write(`${USAGE}\n`), EXIT.ok)
  if (args.command === 'version') return (io.stdout.write(`${io.version}\n`), EXIT.ok)
  if (args.url === undefined) {
    fail('no store: pass --url URL or set CACHELOCK_URL')
    return EXIT.usage
  }
  const url = args.url
  let opened: ReturnType<typeof openStore>
  try {
    opened = openStore(url, args.timeoutMs)
  } catch (error) {
    // A bad URL, a refused scheme, a client package that is not installed: nothing was opened.
    fail(error instanceof Error ? error.message : String(error))
    return EXIT.usage
  }
  const { store, lastError } = opened
  // Every store call is bounded by --timeout, whatever the client's own retries would do.
  const within = <T>(work: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new StoreTimeoutError(`the store at ${redactUrl(url)} did not answer within ${args.timeoutMs} ms`)),
        args.timeoutMs,
      )
      work.then(resolve, reject).finally(() => clearTimeout(timer))
    })
  try {
    return await command(args, store, io, within, fail)
  } catch (error) {
    fail(describeFailure(error, url, lastError()))
    return error instanceof InvalidLockArgumentError ? EXIT.usage : EXIT.failed
  } finally {
    await Promise.race([store.close?.().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())])
  }
}

async function command(
  args: CliArgs,
  store: LockStore,
  io: CliIo,
  within: <T>(work: Promise<T>) => Promise<T>,
  fail: (message: string) => void,
): Promise<number> {
  const out = (text: string) => io.stdout.write(text)
  const json = (value: unknown) => out(`${JSON.stringify(value, null, 2)}\n`)
  if (args.command === 'list') {
    if (!store.list) {
      fail(cannotList(args.url!))
      return EXIT.usage
    }
    const locks = (await within(listLocks(store, args.prefix, args.target)))!
    if (args.json) json(locks)
    else out(lockTable(locks))
    return EXIT.ok
  }
  const name = args.target!
  const lock = await within(showLock(store, args.prefix, name))
  if (args.command === 'show') {
    if (args.json) json(lock ?? { name, key: args.prefix + name, held: false })
    else out(lock ? lockDetails(lock) : `${notHeld(name, args.prefix)}.\n`)
    return EXIT.ok
  }
  if (!lock) {
    if (args.json) json({ name, key: args.prefix + name, held: false, released: false })
    else out(`Nothing to release: ${notHeld(name, args.prefix)}.\n`)
    return EXIT.ok
  }
  if (!args.yes) {
    const who = lock.holders.map((holder) => holder.clientId).join(', ')
    const question =
      `Force-release ${printableName(name)} (${lock.mode}, held by ${who}, ttl left ${formatTtl(lock.ttlMs)})? ` +
      'Its holders are not stopped: they learn of it at their next renewal.'
    if (!(await confirm(question, io.stdin, io.stderr))) {
      fail('not released')
      return EXIT.declined
    }
  }
  const released = await within(store.forceRelease(args.prefix + name))
  if (args.json) json({ name, key: args.prefix + name, held: true, released })
  else out(released ? `Released ${printableName(name)}.\n` : `${printableName(name)} was no longer held.\n`)
  return EXIT.ok
}

/** One line: what failed, and the underlying reason when the error only says the connection closed. */
function describeFailure(error: unknown, url: string, lastError: unknown): string {
  if (error instanceof StoreTimeoutError || error instanceof InvalidLockArgumentError) return error.message
  const message = error instanceof Error ? error.message : String(error)
  const causes: string[] = []
  for (let cause = (error as { cause?: unknown }).cause; cause instanceof Error; cause = cause.cause) causes.push(cause.message)
  if (lastError instanceof Error) causes.push(lastError.message)
  const reason = [message, ...causes.filter((text, i) => text && !message.includes(text) && causes.indexOf(text) === i)]
    .map((text) => text.replace(/\.$/, ''))
    .join(': ')
  return `the store at ${redactUrl(url)} failed: ${reason}`
}
