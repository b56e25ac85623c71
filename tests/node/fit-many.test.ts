// `strainer fit-many` as a user and a cluster meet it, at a tiny size (8x8 images, width 16, 12
// iterations): a bundle per signal that is `strainer fit --out`'s bundle with equal results; a rerun
// that redoes nothing; a kill at a chosen point (STRAINER_FIT_MANY_KILL) after which the rerun keeps
// every finished signal and fits only the one in flight and the rest; a corrupt input recorded while
// the others finish; four shard processes started as a Slurm array and as an Indexed Job covering the
// set exactly once; two processes on one shard; bad input refused in one line with nothing written.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng, makeImage } from '../../src/data/image.ts';
import { loadBundle } from '../../src/export/bundle.ts';
import { dirSource } from '../../src/node/fs.ts';
import type { IndexLine } from '../../src/node/many-dir.ts';

const CLI = join(__dirname, '../../bin/strainer.js');
const TINY = ['--res', '8', '--width', '16', '--depth', '3', '--iters', '12', '--lr', '1e-3'];
const tmp = mkdtempSync(join(tmpdir(), 'strainer-fit-many-'));
const run = (args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> =>
  spawnSync('node', [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
const runAsync = (
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const p = spawn('node', [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = '',
      stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
const json = (stdout: string): Record<string, unknown> =>
  JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
const index = (out: string): IndexLine[] =>
  readFileSync(join(out, 'index.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l) as IndexLine);

/** `n` distinct 12x12 gray images (smooth patterns), named a00.png, a01.png, ... */
function images(dir: string, n: number): string[] {
  mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  for (let k = 0; k < n; k++) {
    const img = makeImage(12, 12, 1);
    for (let y = 0; y < 12; y++)
      for (let x = 0; x < 12; x++)
        img.data[y * 12 + x] = 0.5 + 0.4 * Math.sin((x + 1) * (k + 1) * 0.3 + y * 0.2 * (k % 3));
    const name = `a${String(k).padStart(2, '0')}.png`;
    writeFileSync(join(dir, name), encodePng(img));
    names.push(name);
  }
  return names;
}

async function expectWholeBundles(out: string, names: string[]): Promise<void> {
  for (const n of names) {
    const b = await loadBundle(dirSource(join(out, 'fits', n))); // checks every file's sha256
    expect(b.manifest.kind).toBe('fit');
  }
}

const faces = join(tmp, 'faces');
beforeAll(() => {
  images(faces, 6);
});

describe('strainer fit-many', () => {
  it('fits a folder on 2 jobs: a whole bundle per signal, the index and the summary; a rerun redoes nothing', async () => {
    const out = join(tmp, 'run');
    const r = run(['fit-many', faces, '--out', out, ...TINY, '--jobs', '2', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ signals: 6, done: 6, failed: 0, fitted: 6, jobs: 2, threads: 1 });
    const lines = index(out);
    expect(lines.map((l) => l.name)).toEqual(['a00', 'a01', 'a02', 'a03', 'a04', 'a05']);
    for (const l of lines) {
      expect(l).toMatchObject({ status: 'done', bundle: 'fits/' + l.name, iters: 12, res: 8, shard: '0/1' });
      expect(l.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(Object.keys(l.psnr as object)).toEqual(['0', '10']);
    }
    await expectWholeBundles(out, ['a00', 'a05']);
    for (const f of ['summary.md', 'contact-sheet.png', 'psnr-histogram.svg'])
      expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(
      /6 done\*\*, 0 failed[\s\S]*\| PSNR \| [\d.]+ ± [\d.]+ \|/,
    );
    expect(readdirSync(join(out, '.fit-many', 'claims'))).toEqual([]);
    const again = run(['fit-many', faces, '--out', out, ...TINY, '--json']);
    expect(again.status, again.stderr).toBe(0);
    expect(json(again.stdout)).toMatchObject({ done: 6, fitted: 0 });
    expect(index(out)).toEqual(lines);
  });

  it("a signal's folder is exactly `strainer fit --out`'s bundle, with the same results", async () => {
    const single = join(tmp, 'single');
    const f = run(['fit', join(faces, 'a03.png'), ...TINY, '--threads', '1', '--out', single, '--json']);
    expect(f.status, f.stderr).toBe(0);
    const many = join(tmp, 'run', 'fits', 'a03');
    expect(readdirSync(many).sort()).toEqual(readdirSync(single).sort());
    const a = await loadBundle(dirSource(single)),
      b = await loadBundle(dirSource(many));
    const { created: _a, files: fa, ...ma } = a.manifest;
    const { created: _b, files: fb, ...mb } = b.manifest;
    expect(mb).toEqual(ma);
    expect(Object.keys(fb).sort()).toEqual(Object.keys(fa).sort());
    for (const [k, t] of Object.entries(a.tensors)) {
      const u = b.tensors[k].data;
      let max = 0;
      t.data.forEach((v, i) => (max = Math.max(max, Math.abs(v - u[i]))));
      expect(max, k).toBeLessThan(1e-6);
    }
    const line = index(join(tmp, 'run')).find((l) => l.name === 'a03')!;
    expect(line.psnr).toEqual(json(f.stdout).psnr);
    expect(line.final_psnr).toBe(json(f.stdout).final_psnr);
  });

  for (const [at, n, lines, redo] of [
    ['placed', 3, 2, 4],
    ['recorded', 2, 2, 4],
    ['claimed', 1, 0, 6],
  ] as const) {
    it(`killed (SIGKILL) when signal ${n} is ${at}: the rerun keeps what was finished and fits ${redo}`, async () => {
      const out = join(tmp, `kill-${at}`);
      const k = run(['fit-many', faces, '--out', out, ...TINY, '--jobs', '1'], {
        STRAINER_FIT_MANY_KILL: `${at}:${n}`,
      });
      expect(k.signal, k.stderr).toBe('SIGKILL');
      const done = readdirSync(join(out, '.fit-many', 'done')).filter((f) => f.endsWith('.json'));
      expect(done).toHaveLength(lines);
      expect(readdirSync(join(out, '.fit-many', 'claims')).filter((f) => !f.startsWith('.'))).toHaveLength(1);
      const before = done.map((f) => readFileSync(join(out, '.fit-many', 'done', f), 'utf8'));
      const kept = done.map((f) => statSync(join(out, 'fits', f.replace('.json', ''), 'weights.bin')).ino);
      const r = run(['fit-many', faces, '--out', out, ...TINY, '--jobs', '1', '--json']);
      expect(r.status, r.stderr).toBe(0);
      expect(json(r.stdout)).toMatchObject({ done: 6, failed: 0, fitted: redo });
      // What was finished is untouched: the same lines and the same bundle files.
      expect(done.map((f) => readFileSync(join(out, '.fit-many', 'done', f), 'utf8'))).toEqual(before);
      expect(done.map((f) => statSync(join(out, 'fits', f.replace('.json', ''), 'weights.bin')).ino)).toEqual(kept);
      expect(index(out).map((l) => l.name)).toEqual(['a00', 'a01', 'a02', 'a03', 'a04', 'a05']);
      await expectWholeBundles(out, ['a00', 'a01', 'a02', 'a03', 'a04', 'a05']);
      expect(readdirSync(join(out, '.fit-many', 'staging'))).toEqual([]);
    });
  }

  it('records a corrupt input with its one-line error and finishes the others; exit 2 until it is fixed', () => {
    const src = join(tmp, 'with-corrupt');
    images(src, 4);
    const good = readFileSync(join(src, 'a02.png'));
    writeFileSync(join(src, 'a02.png'), good.subarray(0, 60));
    const out = join(tmp, 'corrupt-run');
    const r = run(['fit-many', src, '--out', out, ...TINY, '--json']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n').pop()).toMatch(
      /^strainer: 1 of 4 signals of shard 0\/1 failed \(a02: .*a02\.png/,
    );
    const lines = index(out);
    expect(lines.map((l) => l.status)).toEqual(['done', 'done', 'failed', 'done']);
    expect(lines[2].error).toMatch(/a02\.png/);
    expect(lines[2].error).not.toMatch(/\n/);
    // Unchanged, it is not fitted again; fixed, it is.
    const same = run(['fit-many', src, '--out', out, ...TINY, '--json']);
    expect(same.status).toBe(2);
    expect(json(same.stdout)).toMatchObject({ done: 3, failed: 1, fitted: 0 });
    writeFileSync(join(src, 'a02.png'), good);
    const fixed = run(['fit-many', src, '--out', out, ...TINY, '--json']);
    expect(fixed.status, fixed.stderr).toBe(0);
    expect(json(fixed.stdout)).toMatchObject({ done: 4, failed: 0, fitted: 1 });
    // Broken again: its line says failed, and the bundle of the earlier input is gone with it.
    writeFileSync(join(src, 'a02.png'), good.subarray(0, 60));
    expect(run(['fit-many', src, '--out', out, ...TINY]).status).toBe(2);
    expect(index(out)[2]).toMatchObject({ name: 'a02', status: 'failed' });
    expect(readdirSync(join(out, 'fits'))).toEqual(['a00', 'a01', 'a03']);
  });

  const seven = join(tmp, 'seven');
  for (const [scheduler, env, extra] of [
    [
      'a Slurm job array (--array=1-4)',
      (i: number) => ({ SLURM_ARRAY_TASK_ID: String(i + 1), SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' }),
      [],
    ],
    [
      'a Kubernetes Indexed Job (completions 4)',
      (i: number) => ({ JOB_COMPLETION_INDEX: String(i) }),
      ['--shards', '4'],
    ],
  ] as const) {
    it(`four shard processes started as ${scheduler} cover the set exactly once`, async () => {
      if (!existsSync(seven)) images(seven, 7);
      const out = join(tmp, `shards-${extra.length}`);
      const rs = await Promise.all(
        [0, 1, 2, 3].map((i) =>
          runAsync(['fit-many', seven, '--out', out, ...TINY, '--jobs', '1', '--json', ...extra], env(i)),
        ),
      );
      for (const r of rs) expect(r.status, r.stderr).toBe(0);
      expect(rs.map((r) => json(r.stdout).signals)).toEqual([1, 2, 2, 2]);
      expect(rs.map((r) => json(r.stdout).shard)).toEqual(['0/4', '1/4', '2/4', '3/4']);
      const m = run(['fit-many', '--merge', out, '--json']);
      expect(m.status, m.stderr).toBe(0);
      expect(json(m.stdout)).toMatchObject({ signals: 7, done: 7, failed: 0, missing: 0 });
      const lines = index(out);
      expect(lines.map((l) => l.name)).toEqual(['a00', 'a01', 'a02', 'a03', 'a04', 'a05', 'a06']);
      expect(lines.map((l) => l.shard)).toEqual(['0/4', '1/4', '1/4', '2/4', '2/4', '3/4', '3/4']);
    });
  }

  it('two processes given the same shard share the work without corrupting it', async () => {
    const out = join(tmp, 'twice');
    const rs = await Promise.all(
      [0, 1].map(() => runAsync(['fit-many', faces, '--out', out, ...TINY, '--jobs', '1', '--json'])),
    );
    for (const r of rs) expect(r.status, r.stderr).toBe(0);
    expect(rs.map((r) => json(r.stdout).fitted as number).reduce((a, b) => a + b)).toBe(6);
    expect(index(out).map((l) => l.name)).toEqual(['a00', 'a01', 'a02', 'a03', 'a04', 'a05']);
    await expectWholeBundles(out, ['a00', 'a01', 'a02', 'a03', 'a04', 'a05']);
  });

  it("fits a volume's slices (--select a z range), each bundle named after its slice", async () => {
    const out = join(tmp, 'slices');
    const r = run(['fit-many', 'data/ch2bet.nii.gz', '--select', '80:83', '--out', out, ...TINY, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ signals: 3, done: 3 });
    const lines = index(out);
    expect(lines.map((l) => l.name)).toEqual(['z080', 'z081', 'z082']);
    expect(lines[0].input).toBe('data/ch2bet.nii.gz#z080');
    expect(new Set(lines.map((l) => l.sha256)).size).toBe(1); // the volume's
    const b = await loadBundle(dirSource(join(out, 'fits', 'z081')));
    expect(b.manifest.signal).toMatchObject({ height: 8, width: 8, source: 'ch2bet.nii.gz#z081' });
  });

  it('--force starts over a run folder that holds other settings', () => {
    const out = join(tmp, 'run');
    const r = run(['fit-many', faces, '--out', out, ...TINY, '--seed', '1', '--force', '--json', '--select', '0:2']);
    expect(r.status, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ signals: 2, done: 2, fitted: 2 });
    expect(index(out).map((l) => l.name)).toEqual(['a00', 'a01']);
    expect(readdirSync(join(out, 'fits'))).toEqual(['a00', 'a01']);
  });
});

describe('strainer fit-many: bad input is one line, exit 2, nothing written', () => {
  const empty = join(tmp, 'empty');
  const cases: [string, () => string[], RegExp][] = [
    [
      'an empty SOURCE',
      () => (mkdirSync(empty, { recursive: true }), ['fit-many', empty]),
      /holds no PNG or JPEG images and no WAV clips/,
    ],
    ['--shard 3/2', () => ['fit-many', faces, '--shard', '3/2'], /--shard must be I\/N with 0 <= I < N/],
    ['--shard x', () => ['fit-many', faces, '--shard', 'x'], /--shard must be I\/N/],
    ['--select out of range', () => ['fit-many', faces, '--select', '2:9'], /range \[2, 9\) is out of bounds/],
    ['no --out', () => ['fit-many', faces], /needs a SOURCE and --out DIR/],
    ['--jobs 0', () => ['fit-many', faces, '--jobs', '0'], /--jobs must be an integer between 1 and 256/],
  ];
  for (const [what, args, msg] of cases) {
    it(what, () => {
      const out = join(tmp, `bad-${what.replace(/\W/g, '')}`);
      const a = args();
      const r = run([...a, ...(a.includes('--out') || what === 'no --out' ? [] : ['--out', out]), ...TINY]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('an existing OUT written by another config, without --force', () => {
    const out = join(tmp, 'other-config');
    expect(run(['fit-many', faces, '--out', out, ...TINY, '--select', '0:1']).status).toBe(0);
    const snapshot = (): string[] => readdirSync(out, { recursive: true }).map(String).sort();
    const before = snapshot();
    const r = run(['fit-many', faces, '--out', out, ...TINY, '--select', '0:1', '--iters', '13']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/holds a fit-many run with other settings \(differs in iters 12 vs 13\); pass --force/),
    ]);
    expect(snapshot()).toEqual(before);
  });

  it('a read-only OUT', () => {
    const ro = join(tmp, 'ro');
    mkdirSync(ro);
    const out = join(ro, 'run');
    const args = ['fit-many', faces, '--out', out, ...TINY];
    let r: SpawnSyncReturns<string>;
    if (process.getuid?.() === 0) {
      // root writes through permission bits: mount the folder read-only in a private namespace instead
      const probe = spawnSync('unshare', ['-rm', 'true']);
      if (probe.status !== 0) return console.warn('skipped: root without unshare cannot make a read-only folder');
      const sh = `mount --bind ${ro} ${ro} && mount -o remount,bind,ro ${ro} && exec node ${CLI} ${args.map((a) => `'${a}'`).join(' ')}`;
      r = spawnSync('unshare', ['-rm', 'sh', '-c', sh], { encoding: 'utf8' });
    } else {
      spawnSync('chmod', ['555', ro]);
      r = run(args);
    }
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/cannot write there .*(read-only|EACCES)/)]);
    expect(readdirSync(ro)).toEqual([]);
  });
});
