#!/usr/bin/env node
// Entry point of the `strainer` command: loads the TypeScript sources through tsx (a runtime
// dependency), so `npx strainer ...` works right after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
