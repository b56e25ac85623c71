#!/usr/bin/env node
// Entry point of the `strainer` command: runs the built CLI in dist/ (plain JavaScript, no transpiler
// at run time). In a checkout, `npm ci` builds dist/ through the `prepare` script.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'strainer: the CLI is not built (dist/cli/main.js is missing); run `npm run build` in the strainer checkout\n',
  );
  process.exit(2);
}
const { main: run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
