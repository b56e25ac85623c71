// Removes from dist/ what no source file produces any more (a module moved or deleted since the last
// build), so it never reaches the packed tarball. Leaves every live file in place, so a build may run
// while tests use dist/ (tests/package packs, and so builds, next to the CLI tests).
//   node scripts/prune-dist.mjs   (the end of `npm run build`)
import { readdirSync, rmSync, existsSync, rmdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..'),
  dist = join(root, 'dist'),
  src = join(root, 'src');
const OUT = /\.(d\.ts\.map|d\.ts|js\.map|js)$/;

function walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      walk(p);
      if (readdirSync(p).length === 0) rmdirSync(p);
    } else if (OUT.test(e.name) && !existsSync(join(src, relative(dist, p).replace(OUT, '.ts')))) {
      rmSync(p);
    }
  }
}
if (existsSync(dist)) walk(dist);
