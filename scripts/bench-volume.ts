// 3-D fits of the bundled MRI volume (data/ch2bet.nii.gz, zero-padded to a cube and area-averaged to
// res^3, src/data/volume.ts) from a random SIREN with the paper's recipe (width 256, 6 layers, omega 30,
// Adam 1e-4): volume size, coordinates per step (the whole grid up to 65536 samples, random batches of
// 65536 above: fit-config.ts MAX_STEP_ROWS), median step time and PSNR after N steps, in one run.
// Writes bench/volume.json and bench/volume.md.   npx tsx scripts/bench-volume.ts [--iters 200]
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { readVolume, fit } from '../src/node/index.ts';
import { median } from '../src/util/stats.ts';

const at = (flag: string, dflt: number): number =>
  process.argv.includes(flag) ? Number(process.argv[process.argv.indexOf(flag) + 1]) : dflt;
const iters = at('--iters', 200);
const RES = [32, 48, 64];
interface Row {
  res: number;
  samples: number;
  batch: number;
  batch_mode: string;
  step_ms_median: number;
  psnr: number[];
  final_psnr: number;
  seconds: number;
}
const rows: Row[] = [];
for (const res of RES) {
  const v = readVolume('data/ch2bet.nii.gz', { res });
  const t0 = performance.now();
  const r = await fit(v.signal, {
    iters,
    seed: 0,
    onStep: (s) => {
      if (s.it % 50 === 0) console.error(`${res}^3 it ${s.it} PSNR ${s.psnr.toFixed(2)} ${s.ms.toFixed(0)} ms`);
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  rows.push({
    res,
    samples: res ** 3,
    batch: r.plan.batch ?? res ** 3,
    batch_mode: r.plan.batch ? 'random' : 'full',
    step_ms_median: +median(r.stepMs).toFixed(1),
    psnr: r.psnr,
    final_psnr: +r.finalPsnr.toFixed(2),
    seconds: +seconds.toFixed(1),
  });
  console.error(JSON.stringify(rows[rows.length - 1]));
}
const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), onnxruntime-node cpu`;
writeFileSync(
  'bench/volume.json',
  JSON.stringify({ iters, rows, machine, date: new Date().toISOString() }, null, 2) + '\n',
);
const cols = [0, 50, 100].filter((i) => i < iters);
const md = [
  '# 3-D fits: the bundled MRI volume at three sizes',
  '',
  `\`data/ch2bet.nii.gz\` (181x217x181, one subject) zero-padded to a 217^3 cube and area-averaged to res^3; a random SIREN`,
  `(width 256, 6 layers, omega 30, Adam lr 1e-4, seed 0) fitted ${iters} steps. PSNR in dB on the [0, 1] scale (the volume divided`,
  "by its maximum). With random batches the PSNR at an iteration is that of the step's batch (65536 coordinates drawn with",
  `replacement); the last column is the whole grid after ${iters} steps. One run, ${new Date().toISOString().slice(0, 10)}, ${machine}, shared with other work.`,
  'Regenerate: `npx tsx scripts/bench-volume.ts`.',
  '',
  `| volume | samples | per step | median step (ms) | ${cols.map((i) => `it ${i}`).join(' | ')} | after ${iters} (whole grid) | wall (s) |`,
  `|---|---|---|---|${cols.map(() => '---').join('|')}|---|---|`,
  ...rows.map(
    (r) =>
      `| ${r.res}^3 | ${r.samples} | ${r.batch_mode === 'full' ? 'whole grid' : `random ${r.batch}`} | ${r.step_ms_median} | ${cols.map((i) => r.psnr[i].toFixed(2)).join(' | ')} | ${r.final_psnr} | ${r.seconds} |`,
  ),
  '',
];
writeFileSync('bench/volume.md', md.join('\n'));
console.error('wrote bench/volume.md');
