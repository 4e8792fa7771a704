import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One FerretDB and one Redis for the whole run; each test file gets its own database and key prefix.
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 90_000, // browser and process tests on 2 busy cores; unit tests take milliseconds
    hookTimeout: 240_000, // the first run on a machine may build FerretDB
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
