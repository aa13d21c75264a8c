import { existsSync, readFileSync } from 'node:fs'
import { SourceMap } from 'node:module'
import { fileURLToPath } from 'node:url'

/**
 * Self time of a V8 `.cpuprofile` (from `node --cpu-prof`, or the inspector's profiler), by
 * function and by owner (cachelock's core, a client library, Node internals, GC), so "what is ours"
 * is one glance. The command line is `summarize-profile.ts`.
 *
 * Frames in the compiled bench (`bench/dist/*.mjs`) are mapped back to their sources through the
 * source maps compile.ts writes, so cachelock's code shows under its own file names.
 */
interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  hitCount?: number
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileSummary {
  totalMs: number
  byOwner: [string, number][]
  byFunction: [string, number][]
}

export function ownerOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'GC'
  if (functionName === '(idle)' || functionName === '(program)') return functionName
  if (url.includes('/packages/core/')) return 'cachelock core'
  if (url.includes('/packages/prisma/')) return 'cachelock prisma'
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return pkg[1]!
  if (url.startsWith('node:') || url === '') return 'node internals'
  if (url.includes('/bench/')) return 'bench harness'
  return 'other'
}

export function summarizeProfile(path: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const selfUs = new Map<number, number>()
  profile.samples.forEach((id, index) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)))
  const owners = new Map<string, number>()
  const functions = new Map<string, number>()
  let total = 0
  const maps = new SourceMaps()
  for (const [id, us] of selfUs) {
    const frame = maps.original(byId.get(id)!.callFrame)
    const owner = ownerOf(frame.url, frame.functionName)
    if (owner === '(idle)') continue
    total += us
    owners.set(owner, (owners.get(owner) ?? 0) + us)
    const file = frame.url.replace(/^.*\/(packages|node_modules\/\.pnpm\/[^/]+\/node_modules)\//, '')
    const name = `${frame.functionName || '(anonymous)'}  ${file}:${frame.lineNumber + 1}`
    functions.set(name, (functions.get(name) ?? 0) + us)
  }
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]).map(([k, v]): [string, number] => [k, v / 1000])
  return { totalMs: total / 1000, byOwner: sorted(owners), byFunction: sorted(functions).slice(0, top) }
}

/** Maps a frame of a compiled file to its source, through the `.map` file beside it. */
class SourceMaps {
  readonly #maps = new Map<string, SourceMap | undefined>()

  original(frame: ProfileNode['callFrame']): ProfileNode['callFrame'] {
    if (!frame.url.endsWith('.mjs') || !frame.url.includes('/bench/dist/')) return frame
    let map = this.#maps.get(frame.url)
    if (!this.#maps.has(frame.url)) {
      const path = `${fileURLToPath(frame.url)}.map`
      map = existsSync(path) ? new SourceMap(JSON.parse(readFileSync(path, 'utf8')) as never) : undefined
      this.#maps.set(frame.url, map)
    }
    // An empty object when the position maps to nothing.
    const entry: { originalSource?: string; originalLine?: number } | undefined = map?.findEntry(frame.lineNumber, frame.columnNumber)
    if (!entry?.originalSource) return frame
    return { ...frame, url: new URL(entry.originalSource, frame.url).href, lineNumber: entry.originalLine ?? 0 }
  }
}
