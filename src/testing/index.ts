export { storageContract, type ContractSetup } from './storage-contract.js';
export { listIds, readAll, streamOf, UNSAFE_IDS } from './storage-helpers.js';
