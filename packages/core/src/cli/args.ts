import { parseArgs } from 'node:util'

/** What the command line asked for. */
export interface CliArgs {
  command: 'list' | 'show' | 'release' | 'help' | 'version'
  /** `list`'s pattern, or the lock name of `show` / `release`. */
  target?: string
  url?: string
  prefix: string
  json: boolean
  yes: boolean
  /** Give up on the store after this many ms. */
  timeoutMs: number
}

/** A command line that cannot be run: the message is printed with the usage hint, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export const DEFAULT_TIMEOUT_MS = 5000

export const USAGE = `Usage: cachelock <command> [options]

Commands:
  list [PATTERN]   the locks held now whose name matches PATTERN (* any run, ? one character,
                   \\ escapes; default *): name, mode, holders, ttl left, fencing token
  show NAME        one lock: each holder (its manager's clientId), mode, ttl left, fencing token
  release NAME     force-release NAME whoever holds it (asks first; its holders learn at their
                   next renewal)

Options:
  --url URL        the store (default: $CACHELOCK_URL): redis://, redis+cluster://,
                   redis+sentinel://, memcached://, ...
  --prefix PREFIX  the key prefix your lock managers use (default: "lock:")
  --json           print JSON for scripts
  -y, --yes        release without asking
  --timeout MS     give up on the store after MS milliseconds (default: ${DEFAULT_TIMEOUT_MS})
  -h, --help       this help
  --version        the version

Exit status: 0 done; 1 the store failed or did not answer; 2 bad usage, a bad URL, or a store
that cannot do it (memcached cannot list); 3 release declined at the prompt.`

/** Parse `argv` (without node and the script). Throws `UsageError`. */
export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv): CliArgs {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        prefix: { type: 'string' },
        json: { type: 'boolean', default: false },
        yes: { type: 'boolean', short: 'y', default: false },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const { values, positionals } = parsed
  const base = {
    url: values.url ?? (env['CACHELOCK_URL'] || undefined),
    prefix: values.prefix ?? 'lock:',
    json: values.json,
    yes: values.yes,
    timeoutMs: timeoutOf(values.timeout),
  }
  if (values.help) return { ...base, command: 'help' }
  if (values.version) return { ...base, command: 'version' }
  const [command, target, ...extra] = positionals
  if (command === undefined) return { ...base, command: 'help' }
  if (command !== 'list' && command !== 'show' && command !== 'release') {
    throw new UsageError(`unknown command ${JSON.stringify(command)} (commands: list, show, release)`)
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`)
  if (command !== 'list' && target === undefined) throw new UsageError(`${command} needs a lock name: cachelock ${command} NAME`)
  return { ...base, command, target }
}

function timeoutOf(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TIMEOUT_MS
  const ms = Number(text)
  if (!/^\d+$/.test(text) || ms < 1 || ms > 2_147_483_647)
    throw new UsageError(`--timeout takes milliseconds (a whole number > 0), got ${JSON.stringify(text)}`)
  return ms
}
