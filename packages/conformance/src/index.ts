/**
 * @zufs/conformance: the suite that checks a filesystem behaves as node:fs on Linux, with its runner,
 * for zufs itself and for anyone's filesystem plugin (`zufs test-plugin ./my-fs.mjs`).
 */
export type { Case, Ctx } from './case.js';
export { cases } from './cases/index.js';
export { equals, expect } from './expect.js';
export {
  type PluginConformance,
  type PluginReport,
  type PluginTarget,
  type TestPluginOptions,
  testPlugin,
} from './plugin.js';
export {
  CASE_MS,
  type CaseResult,
  expectDeparture,
  type Outcome,
  report,
  runCase,
  runSuite,
  type SuiteOptions,
  type Unsupported,
  unsupportedReason,
} from './run.js';
export type { Cred, FsLike, FsMethod, Target, TargetEnv } from './target.js';
export { asUser as nodeAsUser, nodefs } from './targets/nodefs.js';
export { type ZufsTargetOptions, zufsTarget } from './targets/zufs.js';
