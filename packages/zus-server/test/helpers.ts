import { readdirSync } from 'node:fs';
import { type CallOptions, dispatcherFor, type ZufRoot } from '@zufs/zuf-core';
import { IocIoctl, setU64, ZUFS_OP_IOCTL } from '@zufs/zuf-core/api';

export const TEST_FS = new URL('./fixtures/test-fs.mjs', import.meta.url);

/** Number of threads of this process (Linux): proves that stop() leaves no worker behind. */
export function threadCount(): number {
  return readdirSync('/proc/self/task').length;
}

export interface IoctlResult {
  err: number;
  words: number[];
  outLen: number;
  interrupted: boolean;
}

/** Dispatches a ZUFS_OP_IOCTL with up to 8 u32 arguments and reads back up to 8 u32 words. */
export function ioctl(
  root: ZufRoot,
  ii: number,
  cmd: number,
  args: number[] = [],
  opts?: CallOptions,
): IoctlResult {
  const ch = dispatcherFor(root).acquire();
  try {
    const v = ch.op;
    ch.begin(ZUFS_OP_IOCTL, IocIoctl.arg + 32, IocIoctl.arg, 32);
    setU64(v, IocIoctl.zus_ii, ii);
    v.setUint32(IocIoctl.cmd, cmd, true);
    for (let i = 0; i < 8; i++) v.setUint32(IocIoctl.arg + i * 4, args[i] ?? 0, true);
    const err = ch.call(opts);
    const words: number[] = [];
    for (let i = 0; i < 8; i++) words.push(v.getUint32(IocIoctl.arg + i * 4, true));
    return { err, words, outLen: ch.outLen, interrupted: ch.interrupted };
  } finally {
    ch.release();
  }
}
