/**
 * Registering filesystem types and mounting: register_fs_info, zufs_mount_info and the operations
 * of the mount channel (ZUFS_M_*), served by the server's mount thread.
 * Kernel pointers of zus_api.h (struct zus_fs_info *, zus_sb_info *, zus_inode_info *) are u64
 * cookies here: the server decides what they mean and gets them back in later requests.
 */
import { IocHdr, IocHdrLayout } from './hdr.js';
import { defineStruct, field } from './layout.js';

// ~~~ operations on the mount channel: zufs_ioc_hdr.operation ~~~
export const ZUFS_M_MOUNT = 1;
export const ZUFS_M_UMOUNT = 2;
export const ZUFS_M_REMOUNT = 3;
/** Read / write the server's dynamic debug settings (zufs_ddbg_info). */
export const ZUFS_M_DDBG_RD = 4;
export const ZUFS_M_DDBG_WR = 5;

// ~~~ mount flags: zufs_parse_options.mount_flags ~~~
export const ZUFS_M_PEDANTIC = 0x1;
export const ZUFS_M_EPHEMERAL = 0x2;
export const ZUFS_M_SILENT = 0x4;
export const ZUFS_M_PRIVATE = 0x8;

// ~~~ remount flags: zufs_mount_info.remount_flags ~~~
export const ZUFS_REM_WAS_RO = 0x1;
export const ZUFS_REM_WILL_RO = 0x2;

// ~~~ filesystem capabilities: zufs_mount_info.fs_caps ~~~
export const ZUFS_FSC_ACL_ON = 0x1;
/** Reads are GET_MULTY (the server returns block dpps) + one copy by the app side. */
export const ZUFS_FSC_NIO_READS = 0x2;
/** Writes likewise (GET_MULTY for write, copy, PUT_MULTY). */
export const ZUFS_FSC_NIO_WRITES = 0x4;
/**
 * The namespace also changes behind this server's back (other machines share the volume: sqlfs on
 * PostgreSQL, or two servers on one SQLite file): the app side keeps no name cache of its own and
 * asks the filesystem, whose caches expire (zufs's own bit, not Linux's).
 */
export const ZUFS_FSC_SHARED = 0x8;
/**
 * The filesystem lets the app side cache entries and attributes (MountResult.appCache): the mount
 * thread posted its inode generation words and TTL on the channel the app offered (`zufs_pmem=`).
 * Set by the server when it posted them, so an app looks for the message only then (zufs's own bit).
 */
export const ZUFS_FSC_APP_CACHE = 0x10;
/**
 * The filesystem answers ZUFS_OP_LOOKUP_PATH (the plugin's SuperBlock.lookupPath): the app side may
 * resolve several names of a path in one operation (zufs's own bit). Without it the app never sends it.
 */
export const ZUFS_FSC_LOOKUP_PATH = 0x20;

export const RegisterFsInfoLayout = defineStruct('register_fs_info', [
  /*  0 */ field.cstr('fsname', 16), //     NUL terminated, at most 15 bytes
  /* 16 */ field.u32('FS_magic'),
  /* 20 */ field.u32('FS_ver_major'), //   the filesystem's own (on-disk) version
  /* 24 */ field.u32('FS_ver_minor'),
  /* 28 */ field.u32('fs_flags'), //      ours (zus_api: notused): ZUFS_FS_* bits
  /* 32 */ field.u64('dt_offset'),
  /* 40 */ field.u64('s_maxbytes'),
  /* 48 */ field.u32('s_time_gran'), //     timestamp granularity, ns
  /* 52 */ field.u32('def_mode'),
]); /* 56 */
export const RegisterFsInfo = RegisterFsInfoLayout.off;
/**
 * RegisterFsInfo.fs_flags: the filesystem is remote (FsType.remote): its operations wait on the
 * network, so an app should wait for them without blocking its event loop.
 */
export const ZUFS_FS_REMOTE = 1;

export const IocRegisterFsLayout = defineStruct('zufs_ioc_register_fs', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.cookie('zus_zfi'), //        the server's cookie for this filesystem type
  /* 32 */ field.struct('rfi', RegisterFsInfoLayout),
]); /* 88 */
export const IocRegisterFs = IocRegisterFsLayout.off;

export const ZufsParseOptionsLayout = defineStruct('zufs_parse_options', [
  /*  0 */ field.u64('mount_flags'), //      ZUFS_M_PEDANTIC ...
  /*  8 */ field.u32('pedantic'),
  /* 12 */ field.u32('mount_options_len'),
  /* 16 */ field.mark('mount_options'), //  mount_options_len bytes of text follow
]); /* 16 */
export const ZufsParseOptions = ZufsParseOptionsLayout.off;

/** zufs_mount_info, with its `po` (zufs_parse_options) flattened into it. */
export const ZufsMountInfoLayout = defineStruct('zufs_mount_info', [
  // IN
  /*  0 */ field.cookie('zus_zfi'), //        which filesystem type
  /*  8 */ field.u64('remount_flags'), //    ZUFS_REM_*
  /* 16 */ field.u64('sb_id'), //            the app side's id of this mount
  /* 24 */ field.u16('num_cpu'),
  /* 26 */ field.u16('num_channels'),
  /* 28 */ field.u32('__pad'),
  // OUT
  /* 32 */ field.cookie('zus_sbi'), //        the server's cookie for the superblock
  /* 40 */ field.cookie('zus_ii'), //         ... for the root inode (mount is also iget of root)
  /* 48 */ field.dpp('_zi'), //               where the root's zus_inode is
  /* 56 */ field.u32('fs_caps'), //           ZUFS_FSC_*
  /* 60 */ field.u32('s_blocksize_bits'),
  // IN: mount options, variable length, last
  /* 64 */ field.inline(ZufsParseOptionsLayout, 'po'),
]); /* 80 */
export const ZufsMountInfo = ZufsMountInfoLayout.off;

export const ZufsDdbgInfoLayout = defineStruct('zufs_ddbg_info', [
  /*  0 */ field.u64('id'), //   IN: where to start; OUT: the last id
  /*  8 */ field.u64('len'), //  IN: room for msg; OUT: bytes of msg
  /* 16 */ field.mark('msg'),
]); /* 16 */
export const ZufsDdbgInfo = ZufsDdbgInfoLayout.off;

/**
 * struct zufs_ioc_mount: ZUFS_M_MOUNT / UMOUNT / REMOUNT carry a zufs_mount_info (`zmi`, flattened:
 * `IocMount.zus_zfi`, `IocMount.mount_options` ...); ZUFS_M_DDBG_* a zufs_ddbg_info (`zdi`).
 */
export const IocMountLayout = defineStruct('zufs_ioc_mount', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.union(field.inline(ZufsMountInfoLayout, 'zmi'), field.struct('zdi', ZufsDdbgInfoLayout)),
]); /* 104 */
export const IocMount = IocMountLayout.off;

/** Mount without the app side's mount table (a private, in-process mount). */
export const IocMountPrivateLayout = defineStruct('zufs_ioc_mount_private', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.u32('mount_fd'),
  /* 28 */ field.u32('is_umount'),
  /* 32 */ field.struct('rfi', RegisterFsInfoLayout),
  /* 88 */ field.struct('zmi', ZufsMountInfoLayout), // last: its mount options follow
]); /* 168 */
export const IocMountPrivate = IocMountPrivateLayout.off;

/**
 * Why a mount-channel operation failed, for a person: the server may put a short UTF-8 message where
 * the mount options were (`mount_options`, its bytes in `mount_options_len`) beside the errno in
 * hdr.err, within the reply room the app gave (out_start, out_max). Only on the mount channel, whose
 * operations are rare: the op path carries errnos only.
 */
export const MOUNT_ERROR_MAX = 256;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** App side: the reply room (out_start, out_max) a mount-channel request gives its reason. */
export function mountErrorRoom(outStart: number): number {
  return IocMount.mount_options + MOUNT_ERROR_MAX - outStart;
}

/** Server side: writes `message` as the failure's reason, cut to the reply room (UTF-8 whole). */
export function putMountError(v: DataView, message: string): void {
  const start = v.getUint16(IocHdr.out_start, true);
  const room = Math.min(
    MOUNT_ERROR_MAX,
    start + v.getUint16(IocHdr.out_max, true) - IocMount.mount_options,
    v.byteLength - IocMount.mount_options,
  );
  if (start > IocMount.mount_options || room <= 0) return;
  const bytes = new Uint8Array(v.buffer, v.byteOffset + IocMount.mount_options, room);
  const { written } = utf8.encodeInto(message, bytes);
  v.setUint32(IocMount.mount_options_len, written, true);
  v.setUint16(IocHdr.out_len, IocMount.mount_options + written - start, true);
}

/** App side: the reason a failed mount-channel operation carries, or '' (begin() zeroed out_len). */
export function mountErrorMessage(v: DataView): string {
  const end = v.getUint16(IocHdr.out_start, true) + v.getUint16(IocHdr.out_len, true);
  if (end <= IocMount.mount_options) return '';
  const len = Math.min(v.getUint32(IocMount.mount_options_len, true), end - IocMount.mount_options);
  return fromUtf8.decode(new Uint8Array(v.buffer, v.byteOffset + IocMount.mount_options, len));
}
