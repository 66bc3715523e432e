// @zufs/bench: the benchmark harness (private). The CLI is dist/run.js; suites are src/suites/<name>.ts.
export * from './measure.js';
export * from './registry.js';
export * from './report.js';
export * from './suite.js';
export * from './threads.js';
export {
  checkCounts,
  contentOf,
  loadTree,
  QUICK_FILES,
  scan,
  type Tree,
  type TreeCounts,
  unpack,
} from './workload/tree.js';
