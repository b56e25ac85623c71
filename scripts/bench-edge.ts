// `npx tsx scripts/bench-edge.ts [--quick]`: what each stored form of the MRI priors costs and keeps.
// Bytes of the whole bundle (every file plus manifest.json) for float32 as shipped before weights-once
// (encoder weights baked into encoder.onnx a second time; rebuilt in memory for its size), weights-once
// (models/NAME), float16 (`strainer quantize --to f16`, in memory) and int8 (models/NAME-int8); and PSNR
// of fits from each form on the prior's held-out slices, in one run. Prints the tables and writes
// bench/edge.md (bench/edge.json: every curve point measured). --quick: a 10-iteration smoke run.
import { execSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundle, type LoadedBundle, type Manifest } from '../src/export/bundle.ts';
import { loadPrior, type BundledPrior } from '../src/export/prior.ts';
import { quantizePrior } from '../src/export/quantize.ts';
import { dirSource, writeFileAtomic } from '../src/node/fs.ts';
import { programToOnnx } from '../src/onnx/write.ts';
import * as B from '../src/graph/builder.ts';
import { encode, isEncoderParam, paramSpecs, type Params } from '../src/model/inr.ts';
import type { InrConfig } from '../src/model/config.ts';
import { fit, psnrCurve } from '../src/train/fit.ts';
import { ortNodeBackend } from '../src/runtime/ort-node.ts';
import { mriSliceImage } from '../src/data/mri.ts';
import { sha256Hex } from '../src/util/sha256.ts';
import { loadNifti } from '../src/node/read.ts';

const QUICK = process.argv.includes('--quick');

/** sha256 of each prior's weights.bin as pretraining wrote it (commits f264c32 and before): the
 *  weights-once bundles must hold these exact bytes, so their fits equal float32's by construction. */
const TRAINED_WEIGHTS: Record<string, string> = {
  'mri-178': '9ba8a807815d3869aed413bd31b687f08e0d0751119bc9613ea482b99bfbab6f',
  'mri-64': '64397deff1ac6d970723dec86c0b851c3f99fce0af9067760a7d3d12caa6ab96',
};

/** What is fitted, chosen to fit the 2 shared cores (~30 min of CPU; a 178x178 width-256 step takes
 *  ~0.6 s, a 64x64 one ~0.08 s; bench/core.md): iteration 100 on every held-out slice, iteration 2000
 *  on the first `longSlices` of them (a 2000-iteration 178x178 fit is ~20 min per form, so none). */
const PLAN: { prior: string; short: number; long: number; longSlices: number }[] = QUICK
  ? [
      { prior: 'mri-178', short: 5, long: 10, longSlices: 1 },
      { prior: 'mri-64', short: 5, long: 10, longSlices: 1 },
    ]
  : [
      { prior: 'mri-178', short: 100, long: 2000, longSlices: 0 },
      { prior: 'mri-64', short: 100, long: 2000, longSlices: 1 },
    ];

const FORMS = ['float32', 'float16', 'int8'] as const;
type Form = (typeof FORMS)[number];

const sh = (cmd: string): string => {
  try {
    return execSync(cmd, { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
};
const manifestBytes = (m: Manifest): number => Buffer.byteLength(JSON.stringify(m, null, 2) + '\n');

interface Sizes {
  total: number;
  files: Record<string, number>;
}
const sizesOf = (m: Manifest): Sizes => {
  const files: Record<string, number> = { 'manifest.json': manifestBytes(m) };
  for (const [f, e] of Object.entries(m.files)) files[f] = e.bytes;
  return { total: Object.values(files).reduce((a, b) => a + b, 0), files };
};
const sizesOnDisk = (dir: string, m: Manifest): Sizes => {
  const s = sizesOf(m);
  s.files['manifest.json'] = statSync(join(dir, 'manifest.json')).size;
  // A signed bundle travels with its detached signature (scripts/sign-priors.sh).
  if (existsSync(join(dir, 'manifest.sig'))) s.files['manifest.sig'] = statSync(join(dir, 'manifest.sig')).size;
  s.total = Object.values(s.files).reduce((a, b) => a + b, 0);
  return s;
};

/** The bundle as strainer wrote it before weights-once: encoder.onnx with the weights as
 *  initializers (the former encoderProgram), everything else the same. */
function bakedLayoutSizes(m: Manifest, encoder: Params): Sizes {
  const c: InrConfig = m.config;
  const coords = B.input('coords', ['n', c.inDim]);
  const ps = Object.fromEntries(
    paramSpecs(c)
      .filter((s) => isEncoderParam(s.name))
      .map((s) => [s.name, B.constant(encoder[s.name], s.shape, s.name)]),
  );
  const bytes = programToOnnx({
    name: 'encoder',
    inputs: [coords],
    outputs: { features: encode(c, ps, coords) },
    doc: `strainer ${c.kind} encoder: coords in [-1,1] -> features`,
  });
  const file = m.graphs.encoder.file;
  const old: Manifest = {
    ...m,
    graphs: {
      ...m.graphs,
      encoder: {
        file,
        inputs: ['coords'],
        outputs: ['features'],
        doc: `strainer ${c.kind} encoder: coords in [-1,1] -> features`,
      },
    },
    files: { ...m.files, [file]: { sha256: '0'.repeat(64), bytes: bytes.byteLength } },
  };
  return sizesOf(old);
}

const t0 = performance.now();
const loadStart = loadavg()
  .map((x) => x.toFixed(1))
  .join(' ');
const backend = ortNodeBackend();
const vol = loadNifti('data/ch2bet.nii.gz');
const volSha = await sha256Hex(new Uint8Array(readFileSync('data/ch2bet.nii.gz')));

interface Row {
  prior: string;
  form: Form | 'weights-once';
  sizes: Sizes;
}
const rows: Row[] = [];
interface Fit {
  prior: string;
  form: Form;
  slice: string;
  iters: number;
  curve: Record<string, number>;
  seconds: number;
}
const fits: Fit[] = [];
const notes: string[] = [];

for (const plan of PLAN) {
  const dir = `models/${plan.prior}`;
  const b: LoadedBundle = await loadBundle(dirSource(dir));
  const m = b.manifest;
  const wSha = m.files[m.tensors.file].sha256;
  if (wSha !== TRAINED_WEIGHTS[plan.prior])
    throw new Error(`${dir}: weights.bin sha256 ${wSha} is not the trained weights' ${TRAINED_WEIGHTS[plan.prior]}`);
  const f32 = await loadPrior(dirSource(dir));
  const f16Bundle = await quantizePrior(b, 'f16');
  const int8Dir = `${dir}-int8`;
  const int8 = await loadPrior(dirSource(int8Dir));
  if (int8.manifest.quantization?.from.weights_sha256 !== wSha)
    throw new Error(`${int8Dir} was not quantized from ${dir}`);
  // The float16 form, loaded through the same unpacking every reader uses.
  const f16Src = {
    where: 'f16 (in memory)',
    read: async (n: string) =>
      n === 'manifest.json' ? new TextEncoder().encode(JSON.stringify(f16Bundle.manifest)) : f16Bundle.files[n],
  };
  const f16 = await loadPrior(f16Src);
  rows.push({ prior: plan.prior, form: 'float32', sizes: bakedLayoutSizes(m, f32.encoder) });
  rows.push({ prior: plan.prior, form: 'weights-once', sizes: sizesOnDisk(dir, m) });
  rows.push({ prior: plan.prior, form: 'float16', sizes: sizesOf(f16Bundle.manifest) });
  rows.push({ prior: plan.prior, form: 'int8', sizes: sizesOnDisk(int8Dir, int8.manifest) });
  notes.push(
    `${plan.prior}: weights.bin sha256 ${wSha.slice(0, 16)}... in models/${plan.prior} = the pretrained weights, so weights-once fits are the float32 fits (not fitted again); largest weight change float16 ${f16.manifest.quantization!.max_abs_error}, int8 ${int8.manifest.quantization.max_abs_error}`,
  );

  const d = m.data!;
  if (d.files[0]?.sha256 !== volSha)
    throw new Error(`${dir} was trained on ${d.files[0]?.path} with another sha256 than data/ch2bet.nii.gz`);
  const res = m.signal!.height;
  const forms: Record<Form, BundledPrior> = { float32: f32, float16: f16, int8 };
  for (const [k, id] of d.test.entries()) {
    const img = mriSliceImage(vol, Number(id.slice(1)), res);
    const iters = k < plan.longSlices ? plan.long : plan.short;
    for (const form of FORMS) {
      const p = forms[form];
      const s0 = performance.now();
      const r = { curve: psnrCurve(await fit(img, { prior: p, backend, iters, lr: m.train.lr, seed: 0 })) };
      const at = [...new Set([0, 50, 100, 200, 500, 1000, 2000, iters].filter((i) => i <= iters))];
      const curve = Object.fromEntries(at.map((i) => [String(i), +r.curve[i].toFixed(3)]));
      const seconds = (performance.now() - s0) / 1000;
      fits.push({ prior: plan.prior, form, slice: id, iters, curve, seconds });
      process.stderr.write(
        `${plan.prior} ${form} ${id}: ${at.map((i) => `it ${i} ${curve[i]}`).join(', ')} (${seconds.toFixed(0)} s)\n`,
      );
    }
  }
}

// ---- tables ----
const fmtBytes = (n: number): string => n.toLocaleString('en-US');
const today = (prior: string): number => rows.find((r) => r.prior === prior && r.form === 'float32')!.sizes.total;
const sizeTable = [
  '| prior | form | bundle bytes | % of float32 today | weights.bin | encoder.onnx | train_step.onnx | manifest.json | manifest.sig |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.prior} | ${r.form === 'float32' ? 'float32 today (weights twice)' : r.form} | ${fmtBytes(r.sizes.total)} | ${((100 * r.sizes.total) / today(r.prior)).toFixed(1)} % | ${['weights.bin', 'encoder.onnx', 'train_step.onnx', 'manifest.json', 'manifest.sig'].map((f) => fmtBytes(r.sizes.files[f] ?? 0)).join(' | ')} |`,
  ),
];

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const psnrRows: string[] = [
  `| prior | form | it ${PLAN[0].short} (mean of slices) | vs float32 | it ${PLAN[0].long} | vs float32 |`,
  '|---|---|---:|---:|---:|---:|',
];
for (const plan of PLAN) {
  const at = (form: Form, it: number): { v: number; ids: string[] } | null => {
    const fs = fits.filter((f) => f.prior === plan.prior && f.form === form && f.curve[String(it)] !== undefined);
    return fs.length ? { v: mean(fs.map((f) => f.curve[String(it)])), ids: fs.map((f) => f.slice) } : null;
  };
  const cell = (form: Form, it: number): string => {
    const x = at(form, it);
    return x ? `${x.v.toFixed(2)} (${x.ids.length === 1 ? x.ids[0] : `${x.ids.length} slices`})` : 'not measured';
  };
  const diff = (form: Form, it: number): string => {
    const x = at(form, it),
      ref = at('float32', it);
    return x && ref ? (form === 'float32' ? '—' : `${x.v - ref.v >= 0 ? '+' : ''}${(x.v - ref.v).toFixed(2)} dB`) : '';
  };
  for (const form of FORMS)
    psnrRows.push(
      `| ${plan.prior} | ${form} | ${cell(form, plan.short)} | ${diff(form, plan.short)} | ${cell(form, plan.long)} | ${diff(form, plan.long)} |`,
    );
  psnrRows.push(
    `| ${plan.prior} | weights-once | = float32 (same weights.bin bytes) | 0 by construction | = float32 | 0 by construction |`,
  );
}
const perSlice = [
  '| prior | slice | iterations | float32 | float16 | int8 |',
  '|---|---|---|---|---|---|',
  ...[...new Set(fits.map((f) => `${f.prior} ${f.slice}`))].map((key) => {
    const fs = fits.filter((f) => `${f.prior} ${f.slice}` === key);
    const pts = Object.keys(fs[0].curve).filter((i) => i !== '0');
    const col = (form: Form): string => {
      const f = fs.find((x) => x.form === form)!;
      return pts.map((i) => f.curve[i].toFixed(2)).join(' / ');
    };
    return `| ${fs[0].prior} | ${fs[0].slice} | ${pts.join(' / ')} | ${col('float32')} | ${col('float16')} | ${col('int8')} |`;
  }),
];

const minutes = (performance.now() - t0) / 60000;
const machine = `${cpus()[0]?.model ?? '?'}, nproc ${sh('nproc')}, Node ${process.version}, onnxruntime-node ${JSON.parse(readFileSync('node_modules/onnxruntime-node/package.json', 'utf8')).version}; load average (1/5/15 min) ${loadStart} at start, ${loadavg()
  .map((x) => x.toFixed(1))
  .join(
    ' ',
  )} at end; ${minutes.toFixed(1)} min wall, ${(process.cpuUsage().user / 6e7).toFixed(1)} min CPU (user, both threads)`;
const md = [
  '# Compact priors: bytes and fitting quality of each stored form',
  '',
  `Generated by \`npx tsx scripts/bench-edge.ts\` on ${new Date().toISOString().slice(0, 10)}${QUICK ? ' (--quick smoke run: not the measurement)' : ''}; every number below comes from this one run.`,
  '',
  `Machine: ${machine}.`,
  '',
  '## Bundle bytes (every file of the bundle: manifest.json, and manifest.sig where signed)',
  '',
  ...sizeTable,
  '',
  '"float32 today" is the layout before weights-once (encoder.onnx carried a second float32 copy of the weights as initializers), rebuilt in memory from the same weights to size it. float16 and int8 store the encoder weights (int8: weight matrices as int8 with one float32 scale per output channel, biases float32); every loader dequantizes them to float32, and the train step is unchanged.',
  '',
  '## PSNR (dB) of fits from each form on the held-out slices',
  '',
  `Protocol of \`strainer eval\`/pretraining's own measurement: fresh decoder (seed 0), all parameters trained with Adam at the prior's lr (1e-4), full image, PSNR of the model after that many updates. Iteration 100 on all five held-out slices of each prior (its manifest's \`data.test\`); iteration 2000 only where stated (CPU budget: 2 shared cores; a 2000-iteration fit at 178x178 takes ~20 min per form, so mri-178 has none at 2000).`,
  '',
  ...psnrRows,
  '',
  'Per slice (PSNR at the listed iterations):',
  '',
  ...perSlice,
  '',
  ...notes.map((n) => `- ${n}`),
  ...(fits.some((f) => Object.values(f.curve).some((v) => v > 100))
    ? [
        "- Above ~100 dB a fit is at float32 rounding level (100 dB is an RMS error of 1e-5 of the [0, 1] range; rounding to 8 bits alone leaves 59 dB), so differences there say where the optimizer's last bits settle, not how good a prior is.",
      ]
    : []),
  '',
].join('\n');

process.stdout.write(`${sizeTable.join('\n')}\n\n${psnrRows.join('\n')}\n\n${perSlice.join('\n')}\n`);
if (!QUICK) {
  writeFileAtomic('bench/edge.md', md);
  writeFileAtomic('bench/edge.json', JSON.stringify({ machine, quick: QUICK, sizes: rows, fits }, null, 1) + '\n');
  process.stderr.write('wrote bench/edge.md and bench/edge.json\n');
}
