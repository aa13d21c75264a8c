import type { ASYNC_OPTIONS_TYPE } from './module-definition.js'

/** What `CachelockModule.forRootAsync()` takes: `useFactory` + `inject` + `imports`, `useClass` or `useExisting`, and `isGlobal`. */
export type CachelockModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE
