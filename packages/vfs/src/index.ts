/** @zufs/vfs: the file APIs on a zufs server: the node:fs face on the inode-level client. */
export * from './fs/index.js';
export * from './inode/index.js';
