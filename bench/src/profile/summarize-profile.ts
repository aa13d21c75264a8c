import { summarizeProfile } from './profile-summary.js'

/**
 * Print the self time of V8 `.cpuprofile` files by owner and by function (see profile-summary.ts):
 *
 *   node --cpu-prof --cpu-prof-dir=bench/profiles bench/dist/main.mjs --only=memory
 *   node --import tsx bench/src/profile/summarize-profile.ts bench/profiles/CPU.*.cpuprofile [top]
 */
{
  const args = process.argv.slice(2)
  const top = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 25)
  // `--cpu-prof` also profiles helper threads (tsx's loader, when present): show each file.
  for (const path of args.filter((arg) => !/^\d+$/.test(arg))) {
    const summary = summarizeProfile(path, top)
    const pct = (ms: number) => `${((100 * ms) / summary.totalMs).toFixed(1).padStart(5)} %`
    console.log(`${path}\nbusy ${summary.totalMs.toFixed(0)} ms (idle excluded)\n\nby owner`)
    for (const [owner, ms] of summary.byOwner) console.log(`  ${pct(ms)}  ${owner}`)
    console.log('\nby function (self time)')
    for (const [name, ms] of summary.byFunction) console.log(`  ${pct(ms)}  ${name}`)
    console.log('')
  }
}
