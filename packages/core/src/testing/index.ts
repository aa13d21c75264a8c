export { lockStoreContract } from './contract.js'
export type { ContractOptions } from './contract.js'
export { grant, request, sleep, until } from './context.js'
export type { ContractContext, TestApi } from './context.js'
