export { grant, lockStoreContract, request, sleep, until } from './contract.js'
export type { ContractContext, ContractOptions, TestApi } from './contract.js'
