// Vite config of the demo app in web/ (`npm run web`; `npx vite build` -> demo-dist/). The settings live
// in web/server.ts so the browser tests and the benchmark start the identical server. Vitest also
// reads this file when no vitest.config exists: under Vitest it contributes nothing, so the test
// tiers keep the repository root as their root.
import { defineConfig } from 'vite';
import { webConfig } from './web/server.ts';

export default defineConfig(process.env.VITEST ? {} : webConfig());
