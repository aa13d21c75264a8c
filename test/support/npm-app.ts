import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// The release flow, run for real: every public package packed by pnpm (as `pnpm publish` packs it,
// `workspace:` ranges rewritten) and installed with npm into an app outside the workspace.

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface Manifest {
  name: string
  version: string
  private?: boolean
  files?: string[]
  sideEffects?: boolean
  engines?: Record<string, string>
  bin?: Record<string, string>
  exports: Record<string, string | { import: Record<string, string>; require: Record<string, string> }>
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
  devDependencies?: Record<string, string>
  publishConfig?: Record<string, string>
}

export interface WorkspacePackage {
  dir: string
  pkg: Manifest
}

export interface Packed extends WorkspacePackage {
  tarball: string
  /** The tarball's files, without the `package/` prefix. */
  files: string[]
  /** package.json as published. */
  published: Manifest
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T

/** The public packages, each after the workspace packages it depends on (its build reads their types). */
export function publicPackages(): WorkspacePackage[] {
  const all = readdirSync(join(root, 'packages'))
    .map((name) => join(root, 'packages', name))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, pkg: readJson<Manifest>(join(dir, 'package.json')) }))
    .filter(({ pkg }) => !pkg.private)
  const ordered: WorkspacePackage[] = []
  const visit = (entry: WorkspacePackage) => {
    if (ordered.includes(entry)) return
    const { dependencies = {}, peerDependencies = {}, devDependencies = {} } = entry.pkg
    for (const name of Object.keys({ ...dependencies, ...peerDependencies, ...devDependencies })) {
      const dependency = all.find(({ pkg }) => pkg.name === name)
      if (dependency) visit(dependency)
    }
    ordered.push(entry)
  }
  all.forEach(visit)
  return ordered
}

/** `pnpm pack` each package into `destination` (its `prepack` builds it). */
export function pack(packages: WorkspacePackage[], destination: string): Packed[] {
  mkdirSync(destination, { recursive: true })
  return packages.map((entry) => {
    const before = new Set(readdirSync(destination))
    execFileSync('pnpm', ['pack', '--pack-destination', destination], { cwd: entry.dir, stdio: 'pipe' })
    const made = readdirSync(destination).filter((file) => file.endsWith('.tgz') && !before.has(file))
    if (made.length !== 1) throw new Error(`pnpm pack in ${entry.dir} made ${made.join(', ') || 'nothing'}`)
    const tarball = join(destination, made[0]!)
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((file) => file.replace(/^package\//, ''))
    const published = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as Manifest
    return { ...entry, tarball, files, published }
  })
}

/** The version range the workspace develops against for `name`: `inPackage`'s devDependency, or the first found. */
export function workspaceRange(name: string, inPackage?: string): string {
  const dirs = inPackage
    ? [join(root, 'packages', inPackage)]
    : [root, ...readdirSync(join(root, 'packages')).map((entry) => join(root, 'packages', entry))]
  for (const dir of dirs) {
    const file = join(dir, 'package.json')
    const range = existsSync(file) ? readJson<Manifest>(file).devDependencies?.[name] : undefined
    if (range && !range.startsWith('workspace:') && !range.startsWith('npm:')) return range
  }
  throw new Error(`no workspace package depends on ${name}`)
}

/**
 * An app in `dir` with `specs` installed by npm, as a user installs them. npm's cache makes a
 * rerun a matter of seconds; nothing is linked to the workspace.
 */
export function npmApp(dir: string, specs: string[]): void {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'cachelock-scratch-app', private: true, version: '0.0.0' }))
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs], {
    cwd: dir,
    stdio: 'pipe',
    env: npmEnv(),
  })
}

/**
 * The environment a user's npm and Node run in: the workspace's pnpm and npm settings must not leak
 * into it, nor `NODE_PATH`, which `pnpm run` points at the workspace's hoisted packages (through it a
 * scratch app would load a package it never installed from the workspace).
 */
export function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm|pnpm)_/i.test(key) && key !== 'NODE_PATH'))
}

/** Run `source` as `file` in the app with Node; its stdout. */
export function runIn(app: string, file: string, source: string, env: NodeJS.ProcessEnv = npmEnv()): string {
  writeFileSync(join(app, file), source)
  return execFileSync(process.execPath, [join(app, basename(file))], { cwd: app, encoding: 'utf8', env }).trim()
}

/**
 * Load `specifier` in the app through `import` and through `require`; what is wrong: no names, or
 * names that differ (the ESM entry re-exports the CommonJS build, so the two sides are one module).
 */
export function loadBothWays(app: string, specifier: string): string[] {
  const out = runIn(
    app,
    'both.mjs',
    `import { createRequire } from 'node:module'
     const esm = await import(${JSON.stringify(specifier)})
     const cjs = createRequire(import.meta.url)(${JSON.stringify(specifier)})
     const names = Object.keys(cjs).filter((n) => n !== '__esModule')
     const problems = names.filter((n) => esm[n] !== cjs[n]).map((n) => n + ' differs between import and require')
     if (names.length === 0) problems.push('no exports')
     if (Object.keys(esm).length !== names.length) problems.push(Object.keys(esm).length + ' names through import, ' + names.length + ' through require')
     console.log(JSON.stringify(problems))`,
  )
  return JSON.parse(out) as string[]
}

/**
 * `loadBothWays` for the `subpath` entry of the installed `pkg`, except that an entry may fail to
 * load for want of an optional peer the app did not install (`@cachelock/nestjs/typeorm` without
 * TypeORM): then there is nothing wrong with it.
 */
export function loadEntry(app: string, pkg: Manifest, subpath: string): string[] {
  try {
    return loadBothWays(app, pkg.name + subpath.slice(1))
  } catch (error) {
    const missing = /Cannot find (?:module|package) '((?:@[^/']+\/)?[^/']+)/.exec(String((error as { stderr?: unknown }).stderr))?.[1]
    const optional = missing !== undefined && pkg.peerDependenciesMeta?.[missing]?.optional === true
    if (optional && !existsSync(join(app, 'node_modules', missing))) return []
    throw error
  }
}
