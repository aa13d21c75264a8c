import { cpus, loadavg, release, totalmem, type } from 'node:os'
import type { MachineInfo } from './results.js'

/** What the numbers were measured on. Server versions are filled in by whoever connects to them. */
export function describeMachine(): MachineInfo {
  const cores = cpus()
  return {
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
    v8: process.versions.v8,
    redis: null,
    memcached: null,
    postgres: null,
    loadAverage: { start: loadavg()[0]!, end: Number.NaN, max: loadavg()[0]! },
  }
}

/**
 * Samples the 1-minute load average while the run goes on, so the results say how busy the machine
 * was (other test suites share it): above the core count, processes were queueing for a CPU.
 */
export function watchLoad(machine: MachineInfo): () => void {
  const timer = setInterval(() => {
    machine.loadAverage.max = Math.max(machine.loadAverage.max, loadavg()[0]!)
  }, 2000)
  timer.unref()
  return () => {
    clearInterval(timer)
    machine.loadAverage.end = loadavg()[0]!
    machine.loadAverage.max = Math.max(machine.loadAverage.max, machine.loadAverage.end)
  }
}
