/** mount(): a zufs filesystem mounted and given a node:fs-shaped face. */
import {
  attachZufRoot,
  type MountInfo,
  mountFs,
  umountFs,
  ZufRoot,
  type ZufRootDescriptor,
} from '@zufs/zuf-core';
import { InodeClient } from '../inode/client.js';
import { FdTable } from './fds.js';
import { makeFs, type ZufsFs } from './forms.js';
import type { Cred } from './paths.js';
import { ZufsSync } from './sync.js';

export interface MountOptions {
  /** The filesystem type registered with the server ('pmemfs'...). */
  type: string;
  /** Its mount options ('memory=67108864', 'image=/path'...). */
  options?: string;
  /** The user the face acts as (default: the process's). */
  uid?: number;
  gid?: number;
}

export type ZufsMount = ZufsFs & {
  readonly root: ZufRoot;
  readonly mount: MountInfo;
  readonly client: InodeClient;
  /** The same mount (one fd table) seen by another user. */
  asUser(cred: Cred): ZufsFs;
  /** Unmounts the filesystem (open descriptors are dropped). */
  umount(): void;
};

export function mount(root: ZufRootDescriptor | ZufRoot, o: MountOptions): ZufsMount {
  const r = root instanceof ZufRoot ? root : attachZufRoot(root);
  const m = mountFs(r, o.type, o.options ?? '');
  const fds = new FdTable();
  const c = new InodeClient(r, m, { inUse: (ii) => fds.inUse(ii) });
  const vol = { c, fds };
  const cred = { uid: o.uid ?? process.getuid?.() ?? 0, gid: o.gid ?? process.getgid?.() ?? 0 };
  const fs = makeFs(new ZufsSync(vol, cred)) as ZufsMount;
  return Object.assign(fs, {
    root: r,
    mount: m,
    client: c,
    asUser: (who: Cred) => makeFs(new ZufsSync(vol, who)),
    umount: () => umountFs(r, m.sbId),
  });
}
