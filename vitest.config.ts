// Test tiers (STYLE.md practice 10): tests/unit (pure TypeScript), tests/node (onnxruntime-node,
// real data, the CLI), tests/browser (headless Chromium). `npm test` runs all three; each tier runs on
// its own with `npm run test:unit|test:node|test:browser`. Native addons need the forks pool.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // 2-core CI machine: two test files at a time keeps CPU-heavy tiers from starving each other.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
