// `npm run bench:startup`: cold start of the built CLI (`node bin/strainer.js --help`, what `npx strainer
// --help` runs after npm's own start-up) against a bare `node -e 0`, alternating in one run, medians.
// Goal (issue 10): within 4x. Prints one markdown table; `--write` replaces the "Cold start" section
// of bench/core.md (between its marker comments) with it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { median } from '../src/util/stats.ts';

const RUNS = 21;
const BIN = new URL('../bin/strainer.js', import.meta.url).pathname;
if (!existsSync(new URL('../dist/cli/main.js', import.meta.url))) {
  console.error('bench:startup: dist/ is not built; run `npm run build` first');
  process.exit(2);
}

function time(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const bare: number[] = [],
  help: number[] = [];
time(['-e', '0']);
time([BIN, '--help']); // warm the file cache
for (let i = 0; i < RUNS; i++) {
  bare.push(time(['-e', '0']));
  help.push(time([BIN, '--help']));
}
const b = median(bare),
  h = median(help);
const day = new Date().toISOString().slice(0, 10);
const table = [
  '<!-- startup:begin (npm run bench:startup -- --write) -->',
  '## Cold start of the CLI',
  '',
  `Command: \`npm run bench:startup\` — ${RUNS} alternating runs each, medians; ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} threads, Node ${process.version}; ${day}`,
  '',
  '| what | median ms | vs `node -e 0` |',
  '|---|---|---|',
  `| \`node -e 0\` | ${b.toFixed(1)} | 1.00x |`,
  `| \`node bin/strainer.js --help\` (built CLI, loads only commander) | ${h.toFixed(1)} | ${(h / b).toFixed(2)}x |`,
  '',
  `Goal: within 4x. Before the CLI was built to dist/ (tsx transpiling the sources at every start) it was 5.6x.`,
  '<!-- startup:end -->',
].join('\n');
console.log(table);
if (process.argv.includes('--write')) {
  const path = new URL('../bench/core.md', import.meta.url);
  const doc = readFileSync(path, 'utf8');
  const re = /<!-- startup:begin[\s\S]*?<!-- startup:end -->/;
  writeFileSync(path, re.test(doc) ? doc.replace(re, table) : `${doc.trimEnd()}\n\n${table}\n`);
  console.log('wrote bench/core.md');
}
