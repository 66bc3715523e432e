import type { Target } from '../target.js';
import { memfsTarget } from './memfs.js';
import { nodefs } from './nodefs.js';

/**
 * Every target the conformance suite runs against. nodefs is the oracle: a case that fails there is
 * wrong. Adding a target is one file in this folder plus one line here, e.g. targets/zufs.ts:
 *
 *   export const zufs: Target = {
 *     name: 'zufs',
 *     departures: {}, // zufs must depart nowhere
 *     async setup() {
 *       // start a server, mount a fresh volume, make its node:fs-shaped face (`fs`, typed FsLike)
 *       fs.mkdirSync('/work');
 *       return { fs, root: '/work', asUser: (cred, fn) => fn(faceFor(cred)), cleanup: async () => {} };
 *     },
 *   };
 */
export const targets: Target[] = [nodefs, memfsTarget];
