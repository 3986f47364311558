import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

// One runner for the whole suite. Network and QEMU tests live in test/net and
// test/e2e and create their own namespaces; they run in forks so a crash in one
// cannot take the others down. The Vue plugin lets renderer component tests load .vue files.
export default defineConfig({
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts', 'renderer/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
