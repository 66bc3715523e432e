import type { Target } from '../target.js';
import { memfsTarget } from './memfs.js';
import { nodefs } from './nodefs.js';
import { zufs } from './zufs.js';

/**
 * Every target the conformance suite runs against. nodefs is the oracle: a case that fails there is
 * wrong. Adding a target is one file in this folder plus one line here.
 */
export const targets: Target[] = [nodefs, memfsTarget, zufs];
