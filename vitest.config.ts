import { defineConfig } from 'vitest/config';

// Unit tests run in parallel; tests under test/e2e start many processes and run one file at a time.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit+integration',
          include: ['{libs,services,tools}/*/{src,test}/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'test/e2e/**', 'test/faults/**'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts', 'test/faults/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
