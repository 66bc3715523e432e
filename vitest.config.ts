import { defineConfig } from 'vitest/config';

// Tests import packages by name, so they run the built dist/ files: worker threads load
// the same JavaScript a user installs (see docs/decisions.md, "Tests run on dist").
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    // `pnpm coverage` only (vitest --coverage): V8's coverage of the dist JS the tests run, mapped
    // back to src/ through the builds' source maps. Worker threads (ZTs, the mount thread, test
    // workers) are isolates of their own that V8's profiler in the test process does not see, so
    // code that runs only there counts as not run (see docs/decisions.md, "Coverage").
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**', 'apps/*/src/**', 'bench/src/**', '**/dist/**/*.js'],
      exclude: ['**/*.d.ts', '**/test/**'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      // A failing test still reports: the table says what ran.
      reportOnFailure: true,
    },
  },
});
