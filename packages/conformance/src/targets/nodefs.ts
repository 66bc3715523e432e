import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Cred, FsLike, Target, TargetEnv } from '../target.js';

/**
 * Runs sync `fn` with the process's effective ids switched to `cred` (root only), then switches back.
 * Supplementary groups are cleared meanwhile, so root's group 0 does not leak into the checks.
 */
export function asUser<T>(cred: Cred, fn: (fs: FsLike) => T): T {
  if (process.geteuid?.() !== 0) throw new Error('nodefs can act as another user only when run as root');
  const groups = process.getgroups!();
  const egid = process.getegid!();
  process.setgroups!([cred.gid]);
  process.setegid!(cred.gid);
  process.seteuid!(cred.uid);
  try {
    const result = fn(fs);
    if (result instanceof Promise) throw new Error('asUser: fn must be synchronous');
    return result;
  } finally {
    process.seteuid!(0);
    process.setegid!(egid);
    process.setgroups!(groups);
  }
}

/** `node:fs` on a fresh directory under os.tmpdir(): the oracle (Linux behaviour). */
export const nodefs: Target = {
  name: 'nodefs',
  departures: {},
  async setup(): Promise<TargetEnv> {
    // realpath: tmpdir may sit behind a symlink, and cases compare realpath() results with root.
    const root = fs.realpathSync(fs.mkdtempSync(path.join(tmpdir(), 'zufs-conformance-')));
    return {
      fs,
      root,
      asUser,
      async cleanup() {
        await fs.promises.rm(root, { recursive: true, force: true });
      },
    };
  },
};
