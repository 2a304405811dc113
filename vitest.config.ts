import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Native addons (better-sqlite3, pkcs11js) are safest in child processes, one per test file.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    setupFiles: ['test/support/setup.ts'],
    // builds the CLI once, so spawned `jpki` processes run today's sources, fast (test/support/global-setup.ts)
    globalSetup: ['test/support/global-setup.ts'],
  },
});
