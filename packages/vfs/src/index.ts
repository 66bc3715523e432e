/** @zufs/vfs: the file APIs on a zufs server. Its lower half, the inode-level client, is here. */
export * from './inode/index.js';
