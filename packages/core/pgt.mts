import pg from 'pg'
import { postgresStatements } from '/work/wt/dbstores/packages/core/src/stores/postgres/statements.ts'
const s = postgresStatements('"cachelock_locks"', 'cachelock_locks_released')
const pool = new pg.Pool({ connectionString: 'postgresql://postgres@127.0.0.1:5509/cachelock_test', max: 1 })
async function time(label: string, fn: (i: number) => Promise<unknown>, n = 500) { for (let i = 0; i < 50; i++) await fn(i); const t = performance.now(); for (let i = 0; i < n; i++) await fn(i); console.log(label.padEnd(20), ((performance.now() - t) / n * 1000).toFixed(0), 'us') }
const acq = (i: number) => pool.query({ name: 'a', text: s.acquire, values: ['bench:t', 'o' + i, 30000, false, 'c', false, 300] })
const rel = (i: number) => pool.query({ name: 'r', text: s.release, values: ['bench:t', 'o' + i] })
for (let r = 0; r < 2; r++) {
  await time('select1', () => pool.query({ name: 's', text: 'SELECT 1' }))
  await time('upsert', () => pool.query({ name: 'u', text: 'INSERT INTO cachelock_bench_floor AS f (id, n) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = f.n + 1' }))
  await time('acq+rel', async (i) => { await acq(i); await rel(i) })
}
const vals = ['', "'bench:t'", "'ox'", '30000', 'false', "'c'", 'false', '300']
const { rows } = await pool.query('EXPLAIN (ANALYZE, FORMAT JSON) ' + s.acquire.replace(/\$(\d)/g, (_m, d) => vals[Number(d)]!))
console.log('planning', rows[0]['QUERY PLAN'][0]['Planning Time'], 'exec', rows[0]['QUERY PLAN'][0]['Execution Time'])
const r2 = await pool.query('EXPLAIN (ANALYZE, FORMAT JSON) ' + s.release.replace(/\$(\d)/g, (_m, d) => vals[Number(d)]!))
console.log('release planning', r2.rows[0]['QUERY PLAN'][0]['Planning Time'], 'exec', r2.rows[0]['QUERY PLAN'][0]['Execution Time'])
await pool.end()
