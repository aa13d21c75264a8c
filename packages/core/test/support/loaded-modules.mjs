// Run with `node --import tsx loaded-modules.mjs <steps>`: records every module the process
// loads (ESM through a resolve hook, CommonJS through require.cache), runs the steps against
// core's sources, and prints what was loaded after each step as JSON lines.
import { createRequire, register } from 'node:module'
import { URL } from 'node:url'
import { MessageChannel } from 'node:worker_threads'

const hook = `
let port
export function initialize(data) { port = data.port }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context)
  port.postMessage(resolved.url)
  return resolved
}`
const { port1, port2 } = new MessageChannel()
const loaded = new Set()
let marker
port1.on('message', (url) => {
  loaded.add(url)
  if (url === marker?.url) marker.resolve()
})
port1.unref()
register(`data:text/javascript,${encodeURIComponent(hook)}`, { data: { port: port2 }, transferList: [port2] })

const require = createRequire(import.meta.url)
let count = 0
/** Every module loaded so far: a marker import's message comes after every earlier one (one port, in order). */
async function modules() {
  const url = `data:text/javascript,export default ${count++}`
  await new Promise((resolve) => {
    marker = { url, resolve }
    void import(url)
  })
  return [...loaded, ...Object.keys(require.cache)]
}

const core = await import(new URL('../../src/index.ts', import.meta.url).href)
const steps = {
  async memory() {
    const locks = core.createLockManager({ store: 'memory://' })
    await locks.withLock('a', () => 1)
    await core.createLockManager({ store: new core.MemoryStore() }).withLock('b', () => 2)
    core.configure({ store: 'open://' })
    await core.defaultLockManager().withLock('c', () => 3)
  },
  async redis() {
    // Port 1 refuses connections: the store's module and ioredis load, the call fails.
    const store = core.createStore('redis://127.0.0.1:1')
    await store.holders('x').catch(() => undefined)
    await store.close()
  },
}
for (const step of process.argv.slice(2)) {
  await steps[step]()
  console.log(JSON.stringify({ step, modules: await modules() }))
}
