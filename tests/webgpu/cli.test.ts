// Choosing the runtime on the command line: `--ep webgpu` fits on onnxruntime-node's WebGPU provider
// and says so in --json; `--ep auto` says which provider it took and why (here: the CPU, since the
// only adapter is SwiftShader); every command takes --ep; an unknown provider, WebGPU without an
// adapter and CUDA without its provider each end in one line, exit code 2, nothing written; and
// without onnxruntime-node installed, --help still works and a fit ends in one line saying so.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webgpuEnv, REPO_ROOT, type WebgpuEnv } from './env.ts';

const CLI = join(REPO_ROOT, 'bin', 'strainer.js');
const SLICE = join(REPO_ROOT, 'tests', 'fixtures', 'slice-z073.png');
const TINY_FIT = ['fit', SLICE, '--iters', '3', '--res', '8', '--width', '16', '--depth', '3'];
const tmp = mkdtempSync(join(tmpdir(), 'strainer-ep-'));

function run(args: string[], env: Record<string, string | undefined> = {}, cli = CLI) {
  return spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
}
const lastJson = (stdout: string): Record<string, unknown> =>
  JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;

describe('strainer --ep', () => {
  let env: WebgpuEnv;
  beforeAll(async () => {
    env = await webgpuEnv();
  }, 120_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('--ep webgpu fits on WebGPU and reports it', async (t) => {
    if (!env.ready) return t.skip(env.why);
    const r = run([...TINY_FIT, '--ep', 'webgpu', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(lastJson(r.stdout).backend).toBe('onnxruntime-node (webgpu)');
    expect(r.stderr).toMatch(
      env.software
        ? /backend onnxruntime-node \(webgpu\) \(--ep webgpu: requested; a software adapter/
        : /backend onnxruntime-node \(webgpu\) \(--ep webgpu: requested; \w+ GPU/,
    );
  }, 120_000);

  it('--ep auto takes the CPU on a software adapter (WebGPU on a hardware one) and says why', async (t) => {
    if (!env.ready) return t.skip(env.why);
    const r = run([...TINY_FIT, '--ep', 'auto', '--json']);
    expect(r.status, r.stderr).toBe(0);
    if (!env.software) {
      expect(lastJson(r.stdout).backend).toBe('onnxruntime-node (webgpu)');
      expect(r.stderr).toMatch(/\(--ep auto: webgpu on a hardware adapter: \w+ GPU/);
      return;
    }
    expect(lastJson(r.stdout).backend).toBe('onnxruntime-node (cpu)');
    expect(r.stderr).toMatch(
      /backend onnxruntime-node \(cpu\) \(--ep auto: cpu, as there is no hardware WebGPU adapter \(.*software/,
    );
  }, 60_000);

  it('STRAINER_EP chooses when --ep is absent; --ep wins over it', () => {
    const a = run([...TINY_FIT, '--json'], { STRAINER_EP: 'cpu' });
    expect(a.status, a.stderr).toBe(0);
    expect(a.stderr).toMatch(/\(STRAINER_EP=cpu: requested\)/);
    const b = run([...TINY_FIT, '--json', '--ep', 'cpu'], { STRAINER_EP: 'cuda' });
    expect(b.status, b.stderr).toBe(0);
    expect(lastJson(b.stdout).backend).toBe('onnxruntime-node (cpu)');
  }, 60_000);

  it('pretrain and eval report the backend in --json; restore and demo take --ep', () => {
    const data = join(tmp, 'data');
    mkdirSync(data);
    for (const f of ['slice-z073.png', 'slice-z075.png'])
      cpSync(join(REPO_ROOT, 'tests', 'fixtures', f), join(data, f));
    const prior = join(tmp, 'prior');
    const p = run([
      'pretrain',
      '--data',
      data,
      '--n',
      '1',
      '--test',
      '1',
      '--iters',
      '2',
      '--res',
      '8',
      '--width',
      '8',
      '--depth',
      '2',
      '--gain-iters',
      '0',
      '--checkpoint-every',
      '0',
      '--out',
      prior,
      '--json',
      '--ep',
      'cpu',
    ]);
    expect(p.status, p.stderr).toBe(0);
    expect(lastJson(p.stdout).backend).toBe('onnxruntime-node (cpu)');
    const e = run([
      'eval',
      '--prior',
      prior,
      '--data',
      data,
      '--iters',
      '2',
      '--images',
      '1',
      '--methods',
      'siren',
      '--json',
      '--ep',
      'cpu',
    ]);
    expect(e.status, e.stderr).toBe(0);
    expect(lastJson(e.stdout).backend).toBe('onnxruntime-node (cpu)');
    for (const cmd of ['restore', 'demo']) expect(run([cmd, '--help']).stdout).toMatch(/--ep <ep>/);
  }, 120_000);

  const bad: [string, string[], Record<string, string>, RegExp][] = [
    ['unknown provider', ['--ep', 'gpu'], {}, /^strainer: --ep must be one of auto, cpu, webgpu, cuda, got 'gpu'$/],
    [
      'unknown STRAINER_EP',
      [],
      { STRAINER_EP: 'tpu' },
      /^strainer: STRAINER_EP must be one of auto, cpu, webgpu, cuda, got 'tpu'$/,
    ],
    [
      'WebGPU without an adapter',
      ['--ep', 'webgpu'],
      { VK_ICD_FILENAMES: '/nonexistent/icd.json' },
      /^strainer: --ep webgpu: WebGPU cannot start here \(Failed to get a WebGPU adapter.*\); .*install your GPU's Vulkan driver, or use --ep cpu$/,
    ],
    [
      'CUDA without its provider',
      ['--ep', 'cuda'],
      {},
      /^strainer: --ep cuda: onnxruntime-node's CUDA provider does not start \(.*\); on a CUDA 12 machine: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node, or use --ep cpu$/,
    ],
  ];
  for (const [what, args, extraEnv, msg] of bad) {
    it(`bad input: ${what} -> one line, exit 2, nothing written`, () => {
      const out = join(tmp, `bad-${what.replace(/\W/g, '')}`);
      for (const cmd of [
        [...TINY_FIT, '--out', out],
        ['restore', SLICE, '--task', 'denoise', '--iters', '2', '--out', out],
      ]) {
        const r = run([...cmd, ...args], extraEnv);
        expect(r.status, r.stderr).toBe(2);
        const lines = r.stderr.trim().split('\n');
        expect(lines, r.stderr).toHaveLength(1);
        expect(lines[0]).toMatch(msg);
        expect(existsSync(out) && readdirSync(out).length > 0, 'nothing written').toBe(false);
      }
    }, 60_000);
  }

  it('without onnxruntime-node: --help works, a fit ends in one line saying how to install it', () => {
    // A copy of the built CLI (copied: Node resolves imports from a file's real path) whose
    // node_modules links every package but onnxruntime-node.
    const root = join(tmp, 'no-ort');
    mkdirSync(join(root, 'node_modules'), { recursive: true });
    for (const d of ['bin', 'dist', 'package.json']) cpSync(join(REPO_ROOT, d), join(root, d), { recursive: true });
    for (const p of readdirSync(join(REPO_ROOT, 'node_modules')))
      if (p !== 'onnxruntime-node') symlinkSync(join(REPO_ROOT, 'node_modules', p), join(root, 'node_modules', p));
    const cli = join(root, 'bin', 'strainer.js');
    for (const h of [['--help'], ['fit', '--help']]) expect(run(h, {}, cli).status).toBe(0);
    for (const ep of ['cpu', 'webgpu', 'auto']) {
      const r = run([...TINY_FIT, '--ep', ep], {}, cli);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim()).toBe('strainer: onnxruntime-node is not installed: npm install onnxruntime-node');
    }
  }, 60_000);
});
