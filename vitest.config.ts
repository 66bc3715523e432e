import { defineConfig } from 'vitest/config';

// Tests import packages by name, so they run the built dist/ files: worker threads load
// the same JavaScript a user installs (see docs/decisions.md, "Tests run on dist").
export default defineConfig({
  test: {
    include: [
      'test/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'apps/*/test/**/*.test.ts',
      'bench/test/**/*.test.ts',
    ],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
