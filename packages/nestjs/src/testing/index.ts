export { overrideLockStore } from './override-lock-store.js'
export type { OverridableTestingModule } from './override-lock-store.js'
