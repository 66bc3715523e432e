/**
 * @zufs/example-sqlfs: a POSIX filesystem whose metadata and data live in SQL (SQLite embedded, or
 * PostgreSQL for many machines). Load it into a server with `filesystems: [SQLFS_TYPE]`.
 */
export { Caches, GEN_WORDS } from './cache.js';
export type { Dialect, Engine, Op, Rows, Sql, Step } from './engine.js';
export {
  parseOptions,
  SQLFS_MAGIC,
  SQLFS_NAME,
  type SqlfsDescriptor,
} from './fs-type.js';
export { type CheckReport, fsck } from './fsck.js';
export { type FsConfig, ROOT_INO, SqlFs } from './ops.js';
export { PgEngine, type PgOptions } from './pg.js';
export { createPgDatabase, type PgDatabase, withDatabase } from './pg-database.js';
export { SCHEMA_VERSION } from './schema.js';
export { SqliteEngine, type SqliteOptions } from './sqlite.js';
export {
  DEFAULT_BLOCK_SIZE,
  isPgUrl,
  type MkfsOptions,
  mkfs,
  openEngine,
  openVolume,
  type VolumeSpec,
  volumeSpec,
} from './volume.js';

/** The filesystem type's module, for startServer({ filesystems: [SQLFS_TYPE] }). */
export const SQLFS_TYPE = new URL('./fs-type.js', import.meta.url).href;
