export {
  type InodeAttr,
  InodeClient,
  type InodeClientOptions,
  type LookupResult,
  newAttr,
  readZusInode,
  type SetAttr,
} from './client.js';
