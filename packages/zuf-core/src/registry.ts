/** The registered filesystem types (register_fs), as the mount thread publishes them in the zuf-root. */
import { getU64, RegisterFsInfo, setU64, ZUFS_FS_REMOTE } from './api/index.js';
import { CTL_FS_TYPES, MAX_FS_TYPES, registryOffset } from './root-layout.js';
import type { ZufRoot } from './root-view.js';

export interface RegisteredFsType {
  readonly index: number;
  readonly name: string;
  readonly magic: number;
  readonly versionMajor: number;
  readonly versionMinor: number;
  readonly maxBytes: number;
  readonly timeGranularityNs: number;
  readonly defaultMode: number;
  /** Its operations wait on the network (FsType.remote; ZUFS_FS_REMOTE). */
  readonly remote: boolean;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export function readFsInfo(dv: DataView, at: number, index: number): RegisteredFsType {
  const raw = new Uint8Array(dv.buffer, dv.byteOffset + at + RegisterFsInfo.fsname, 16);
  const nul = raw.indexOf(0);
  return {
    index,
    name: decoder.decode(raw.slice(0, nul < 0 ? 16 : nul)),
    magic: dv.getUint32(at + RegisterFsInfo.FS_magic, true),
    versionMajor: dv.getUint32(at + RegisterFsInfo.FS_ver_major, true),
    versionMinor: dv.getUint32(at + RegisterFsInfo.FS_ver_minor, true),
    maxBytes: getU64(dv, at + RegisterFsInfo.s_maxbytes),
    timeGranularityNs: dv.getUint32(at + RegisterFsInfo.s_time_gran, true),
    defaultMode: dv.getUint32(at + RegisterFsInfo.def_mode, true),
    remote: (dv.getUint32(at + RegisterFsInfo.fs_flags, true) & ZUFS_FS_REMOTE) !== 0,
  };
}

/** Server side: publishes the registered types (the mount thread does this once, at start). */
export function publishFsTypes(root: ZufRoot, types: readonly Omit<RegisteredFsType, 'index'>[]): void {
  if (types.length > MAX_FS_TYPES) throw new RangeError(`at most ${MAX_FS_TYPES} filesystem types`);
  const dv = new DataView(root.descriptor.control);
  types.forEach((t, i) => {
    const at = registryOffset(i);
    const name = encoder.encode(t.name);
    new Uint8Array(root.descriptor.control, at + RegisterFsInfo.fsname, 16).fill(0).set(name.subarray(0, 15));
    dv.setUint32(at + RegisterFsInfo.FS_magic, t.magic, true);
    dv.setUint32(at + RegisterFsInfo.FS_ver_major, t.versionMajor, true);
    dv.setUint32(at + RegisterFsInfo.FS_ver_minor, t.versionMinor, true);
    setU64(dv, at + RegisterFsInfo.s_maxbytes, t.maxBytes);
    dv.setUint32(at + RegisterFsInfo.s_time_gran, t.timeGranularityNs, true);
    dv.setUint32(at + RegisterFsInfo.def_mode, t.defaultMode, true);
    dv.setUint32(at + RegisterFsInfo.fs_flags, t.remote ? ZUFS_FS_REMOTE : 0, true);
  });
  Atomics.store(root.ctl, CTL_FS_TYPES, types.length);
}
