import { mkdirSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'
import { createLockManager, MemoryStore } from '@cachelock/core'
import { Mutex } from 'async-mutex'
import type { BenchCase } from '../context.js'
import { benchRoot } from '../paths.js'
import { summarizeProfile } from '../profile/profile-summary.js'
import { targetResult } from '../results.js'
import { interleave, type Contender } from '../runner/interleave.js'
import { pairedRatios, summarize } from '../runner/stats.js'
import { row } from './rows.js'

/**
 * The in-process lock in a plain loop, so no harness can hide its cost: one sample is
 * `for (…100 000) await locks.withLock('one', noop)` against the same loop of async-mutex's
 * `runExclusive`, nothing else inside the timed region. Rounds interleave the two (A B, B A, …);
 * the ratio is async-mutex's time ÷ cachelock's, per round (≥ 1: cachelock is as fast).
 *
 * After the rounds, one more cachelock loop runs under the V8 profiler (`node:inspector`); its
 * self time by owner and by function goes into the notes and `bench/profiles/memory-loop.cpuprofile`.
 */
const FULL_OPS = 100_000
const QUICK_OPS = 2000

export const memoryLoop: BenchCase = {
  id: 'memory-loop',
  title: 'In-process lock, plain loop: memory store vs async-mutex',
  needs: [],
  async run({ settings, progress, mode }) {
    const ops = mode === 'quick' ? QUICK_OPS : FULL_OPS
    const locks = createLockManager({ store: new MemoryStore() })
    const mutex = new Mutex()
    const noop = () => undefined
    const cachelockLoop = async () => {
      for (let i = 0; i < ops; i++) await locks.withLock('one', noop)
    }
    const mutexLoop = async () => {
      for (let i = 0; i < ops; i++) await mutex.runExclusive(noop)
    }
    const timed = (loop: () => Promise<void>) => async () => {
      const started = performance.now()
      await loop()
      return ((performance.now() - started) * 1000) / ops
    }
    const contenders: Contender[] = [
      { id: 'async-mutex', label: `async-mutex runExclusive × ${ops}`, prepare: mutexLoop, measure: timed(mutexLoop) },
      { id: 'cachelock', label: `cachelock withLock (memory) × ${ops}`, prepare: cachelockLoop, measure: timed(cachelockLoop) },
    ]
    try {
      const micros = await interleave(contenders, {
        rounds: settings.rounds,
        onSample: (round, contender) => progress.update(`memory-loop: round ${round + 1}/${settings.rounds} ${contender.label}`),
      })
      const speed = summarize(pairedRatios(micros['async-mutex']!, micros['cachelock']!))
      progress.update('memory-loop: profiling one cachelock loop')
      const profile = await profileOf(cachelockLoop)
      return {
        rows: contenders.map((c) => row(c.id, c.label, 'µs/op', micros[c.id]!)),
        targets: [
          targetResult({
            target: '≥ 1.0× async-mutex (plain loop, one caller)',
            measure: `async-mutex µs/op ÷ cachelock withLock µs/op, ${ops} sequential operations per sample, paired by round`,
            unit: '×',
            summary: speed,
            comparison: '>=',
            limit: 1,
          }),
        ],
        notes: [
          `One sample = ${ops} sequential operations in a plain \`for\` loop with an empty critical section; ${settings.rounds} interleaved rounds.`,
          'cachelock runs with its defaults (ttl 30 s, autoExtend on, a fencing token per grant).',
          `Where cachelock's time goes (one profiled loop, self time, idle excluded): ${profile}.`,
        ],
      }
    } finally {
      await locks.close()
    }
  },
}

/** Profile `loop` and describe its self time: the top owners and the top functions of cachelock's core. */
async function profileOf(loop: () => Promise<void>): Promise<string> {
  const session = new Session()
  session.connect()
  try {
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 100 })
    await session.post('Profiler.start')
    await loop()
    const { profile } = await session.post('Profiler.stop')
    const dir = join(benchRoot, 'profiles')
    mkdirSync(dir, { recursive: true })
    const path = join(dir, 'memory-loop.cpuprofile')
    writeFileSync(path, JSON.stringify(profile))
    const summary = summarizeProfile(path, 200)
    // The inspector's own `Profiler.stop` (serializing the profile) is sampled too: leave it out.
    const stopping = summary.byFunction.find(([name]) => name.startsWith('dispatch  :'))?.[1] ?? 0
    const total = summary.totalMs - stopping
    const pct = (ms: number) => `${((100 * ms) / total).toFixed(0)} %`
    const owners = summary.byOwner
      .map(([owner, ms]): [string, number] => [owner, owner === 'node internals' ? ms - stopping : ms])
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([owner, ms]) => `${owner} ${pct(ms)}`)
    const core = summary.byFunction
      .filter(([name]) => name.includes('core/src/'))
      .slice(0, 6)
      .map(([name, ms]) => `\`${name.replace(/\s+core\/src\//, ' ')}\` ${pct(ms)}`)
    return `${owners.join(', ')}; in core: ${core.join(', ')} (bench/profiles/memory-loop.cpuprofile)`
  } finally {
    session.disconnect()
  }
}
