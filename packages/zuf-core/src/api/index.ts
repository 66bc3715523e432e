/**
 * @zufs/zuf-core/api: the binary contract between the app side (zuf-core, vfs) and the server
 * (zus-server, plugins), after NetApp's zus_api.h. Every byte that crosses threads is laid out here.
 *
 * Naming: for a C struct `zufs_ioc_lookup`, `IocLookupLayout` is its codec (SIZE, off, encode,
 * decode, create) and `IocLookup` its frozen offsets (`IocLookup.SIZE`, `IocLookup.dir_ii` ...).
 */
import { IocAttrLayout } from './attr.js';
import {
  IocAllocBufferLayout,
  IocBreakAllLayout,
  IocInitLayout,
  IocNumaMapLayout,
  IocWaitOperationLayout,
  ZufsCpuSetLayout,
} from './control.js';
import {
  IocDentryLayout,
  IocEvictInodeLayout,
  IocLookupLayout,
  IocLookupPathLayout,
  IocNewInodeLayout,
  IocRenameLayout,
  LookupPathStepLayout,
} from './dentry.js';
import { FiemapExtentLayout, IocFiemapLayout } from './fiemap.js';
import { IocHdrLayout } from './hdr.js';
import { ZusInodeLayout } from './inode.js';
import {
  IocCloneLayout,
  IocIOLayout,
  IocMmapCloseLayout,
  IocSeekLayout,
  IocSyncLayout,
  ZufsIomapLayout,
  ZufsIomT1IoLayout,
  ZufsIomT2IoLayout,
  ZufsIomT2IoLenLayout,
  ZufsIomT2ZusmemIoLayout,
  ZufsIomUnmapLayout,
} from './io.js';
import { IocIoctlLayout } from './ioctl.js';
import type { Layout } from './layout.js';
import {
  IocMountLayout,
  IocMountPrivateLayout,
  IocRegisterFsLayout,
  RegisterFsInfoLayout,
  ZufsDdbgInfoLayout,
  ZufsMountInfoLayout,
  ZufsParseOptionsLayout,
} from './mount.js';
import { IocReaddirLayout, ZufsDirEntryLayout } from './readdir.js';
import { IocMountOptionsLayout, IocStatfsLayout, Statfs64Layout } from './sb.js';
import { IocXattrLayout } from './xattr.js';

export * from './attr.js';
export * from './control.js';
export * from './dentry.js';
export * from './dpp.js';
export * from './errno.js';
export * from './fiemap.js';
export * from './hdr.js';
export * from './inode.js';
export * from './io.js';
export * from './ioctl.js';
export * from './layout.js';
export * from './limits.js';
export * from './mount.js';
export * from './noop.js';
export * from './ops.js';
export * from './readdir.js';
export * from './sb.js';
export * from './xattr.js';
export * from './zi-copy.js';

/** Every struct of the contract, by its C name. */
export const ZUS_API_LAYOUTS: readonly Layout[] = Object.freeze([
  IocHdrLayout,
  ZusInodeLayout,
  RegisterFsInfoLayout,
  IocRegisterFsLayout,
  ZufsParseOptionsLayout,
  ZufsMountInfoLayout,
  ZufsDdbgInfoLayout,
  IocMountLayout,
  IocMountPrivateLayout,
  IocInitLayout,
  IocBreakAllLayout,
  IocAllocBufferLayout,
  ZufsCpuSetLayout,
  IocNumaMapLayout,
  IocWaitOperationLayout,
  Statfs64Layout,
  IocStatfsLayout,
  IocMountOptionsLayout,
  IocNewInodeLayout,
  IocEvictInodeLayout,
  IocLookupLayout,
  LookupPathStepLayout,
  IocLookupPathLayout,
  IocDentryLayout,
  IocRenameLayout,
  IocReaddirLayout,
  ZufsDirEntryLayout,
  IocMmapCloseLayout,
  IocAttrLayout,
  IocSyncLayout,
  IocCloneLayout,
  IocSeekLayout,
  IocIoctlLayout,
  IocXattrLayout,
  IocFiemapLayout,
  FiemapExtentLayout,
  ZufsIomT1IoLayout,
  ZufsIomT2IoLayout,
  ZufsIomT2IoLenLayout,
  ZufsIomT2ZusmemIoLayout,
  ZufsIomUnmapLayout,
  ZufsIomapLayout,
  IocIOLayout,
]);
