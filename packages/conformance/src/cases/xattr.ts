import type { Case } from '../case.js';

/**
 * Extended attributes. node:fs has no xattr calls, so nothing here runs against every target: zufs's
 * xattr support is an extension of @zufs/vfs beyond node:fs, tested with that package, not by this
 * suite (which compares against node:fs only). Kept as the place to say so.
 */
export const xattrCases: Case[] = [];
