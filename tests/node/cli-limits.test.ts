// The pixel limit as a CLI user meets it: `strainer fit` on a 1.9 KB PNG whose header claims
// 60000x60000 pixels (it used to allocate ~7 GB and run 14 s or more) ends at once with exit code 2, one
// line on stderr and nothing written; STRAINER_MAX_PIXELS moves the limit. Runs bin/strainer.js (the
// built CLI in dist/); without a build it runs the sources through tsx, whose start-up takes longer.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

const ROOT = join(__dirname, '../..');
const BUILT = existsSync(join(ROOT, 'dist/cli/main.js'));
const FROM_SOURCE =
  "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";
/** Wall-clock bound for a refusal: the whole process, start-up included. */
const BOUND_MS = BUILT ? 2000 : 5000;

function cli(args: string[], env: Record<string, string> = {}) {
  const argv = BUILT
    ? [join(ROOT, 'bin/strainer.js'), ...args]
    : ['--import', 'tsx', '--input-type=module', '-e', FROM_SOURCE, ...args];
  const t0 = performance.now();
  // The timeout kills a CLI that starts decoding the claimed size, so the test fails instead of swapping.
  const r = spawnSync('node', argv, { cwd: ROOT, encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
  return { ...r, ms: performance.now() - t0 };
}

const tmp = mkdtempSync(join(tmpdir(), 'strainer-limits-'));
const fixture = readFileSync(join(ROOT, 'tests/fixtures/slice-z073.png'));
const huge = Buffer.from(fixture);
huge.writeUInt32BE(60000, 16);
huge.writeUInt32BE(60000, 20);
huge.writeUInt32BE(crc32(huge.subarray(12, 29)), 29); // a valid IHDR: only the size lies
writeFileSync(join(tmp, 'huge.png'), huge);

describe(`strainer fit with the pixel limit (${BUILT ? 'bin/strainer.js' : 'sources through tsx: dist/ is not built'})`, () => {
  it('refuses a PNG whose header claims 60000x60000: exit 2, one line, at once, nothing written', () => {
    const out = join(tmp, 'out');
    const r = cli(['fit', join(tmp, 'huge.png'), '--out', out]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /^strainer: \S*huge\.png: image is 60000x60000 \(3\.6e9 pixels\), above the limit of 1e8 \(set STRAINER_MAX_PIXELS to raise it\)\n$/,
    );
    expect(r.stdout).toBe('');
    expect(r.ms).toBeLessThan(BOUND_MS);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp)).toEqual(['huge.png']);
  });

  it('takes the limit from STRAINER_MAX_PIXELS', () => {
    const r = cli(['fit', 'tests/fixtures/slice-z073.png', '--iters', '1', '--res', '8'], {
      STRAINER_MAX_PIXELS: '1000',
    });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /^strainer: tests\/fixtures\/slice-z073\.png: image is 64x64 \(4096 pixels\), above the limit of 1000 \(set STRAINER_MAX_PIXELS to raise it\)\n$/,
    );
    const bad = cli(['fit', 'tests/fixtures/slice-z073.png'], { STRAINER_MAX_PIXELS: 'lots' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("strainer: STRAINER_MAX_PIXELS must be a positive number, got 'lots'\n");
  });
});
