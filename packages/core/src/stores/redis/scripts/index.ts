/** Every script `RedisStore` runs, for tools that load them ahead (tests, `SCRIPT LOAD`). */
export { ACQUIRE } from './acquire.js'
export { EXTEND } from './extend.js'
export { FORCE_RELEASE } from './force-release.js'
export { HOLDERS } from './holders.js'
export { LISTEN } from './listen.js'
export { RELEASE } from './release.js'
export { STEAL } from './steal.js'
export type { BoundScript, LuaScript } from './lua.js'
