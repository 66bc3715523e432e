export {
  type InodeAttr,
  InodeClient,
  type InodeClientOptions,
  type LookupResult,
  newAttr,
  readZusInode,
  type SetAttr,
  type StatfsResult,
} from './client.js';
