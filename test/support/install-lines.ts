import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { npmEnv, root } from './npm-app.js'

/**
 * The install commands the READMEs tell a user to type, so the packaging test can run them as
 * written. A ```sh block is one sequence (its lines run in order, in one app); what follows `#` on
 * a line is prose, not run. Only `npm install` lines are commands here: a README that shows
 * another package manager's install line has it refused (it would go untested).
 */
export interface InstallLine {
  /** `README.md:line`, relative to the repository. */
  where: string
  /** npm's arguments after `install`, as written. */
  args: string[]
}

export function installLines(readme: string): { sequences: InstallLine[][]; errors: string[] } {
  const name = relative(root, readme)
  const sequences: InstallLine[][] = []
  const errors: string[] = []
  let block: InstallLine[] | undefined
  readFileSync(readme, 'utf8')
    .split('\n')
    .forEach((text, index) => {
      const where = `${name}:${index + 1}`
      if (/^```/.test(text)) {
        if (block?.length) sequences.push(block)
        block = block === undefined && /^```(sh|bash|shell)\s*$/.test(text) ? [] : undefined
        return
      }
      const command = text.replace(/#.*$/, '').trim()
      const install = /^npm (?:install|i)\s+(.+)$/.exec(command)
      if (install && block) block.push({ where, args: install[1]!.split(/\s+/) })
      else if (install) errors.push(`${where}: an npm install line outside a \`\`\`sh block`)
      else if (/\b(?:pnpm|yarn|bun) (?:add|install)\s+@cachelock\//.test(command))
        errors.push(`${where}: only npm install lines are run by the packaging test: ${command}`)
    })
  return { sequences, errors }
}

/** An app the install lines made: its directory, its package-lock, and what the lines installed by name. */
export interface InstalledApp {
  dir: string
  lock: { packages: Record<string, { version: string; resolved?: string }> }
  dependencies: string[]
}

/**
 * Run `sequence` with npm in a new app in `dir`, each `@cachelock/name` argument replaced by the
 * tarball the release flow packed (a user gets the same package from the registry).
 */
export async function runInstallLines(dir: string, sequence: InstallLine[], tarballs: ReadonlyMap<string, string>): Promise<InstalledApp> {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'cachelock-readme-app', private: true, version: '0.0.0' }))
  for (const { where, args } of sequence) {
    const specs = args.map((arg) => {
      if (!arg.startsWith('@cachelock/')) return arg
      const tarball = tarballs.get(arg)
      if (!tarball) throw new Error(`${where}: ${arg} is not a package the release flow packs (write it without a version)`)
      return tarball
    })
    await promisify(execFile)('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs], {
      cwd: dir,
      env: npmEnv(),
    }).catch((error: Error & { stderr?: string }) => {
      throw new Error(`${where}: npm install ${args.join(' ')} failed:\n${error.stderr ?? error.message}`)
    })
  }
  const read = <T>(file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as T
  return {
    dir,
    lock: read<InstalledApp['lock']>('package-lock.json'),
    dependencies: Object.keys(read<{ dependencies?: object }>('package.json').dependencies ?? {}),
  }
}
