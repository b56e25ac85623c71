// Benchmark (issue 6): pretraining step time of the TensorFlow.js engine on every tfjs backend present
// against the onnxruntime engine, same config, same real data (ch2bet MRI training slices), one run,
// one machine. Writes bench/tfjs.md. Run: `npm run bench:tfjs` (takes a few minutes; run it alone).
//   npm run bench:tfjs -- --quick   # tiny sizes, prints the table only (checks the script itself)
import { execSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { referenceSplit, mriSliceImage } from '../src/data/mri.ts';
import type { InrConfig } from '../src/model/config.ts';
import { pretrainOrt } from '../src/train/pretrain.ts';
import type { EngineOptions as PretrainOptions, EngineResult as PretrainResult } from '../src/train/pretrain-api.ts';
import { ortNodeBackend } from '../src/runtime/ort-node.ts';
import { writeFileAtomic } from '../src/node/fs.ts';
import { makeTfjsEngine } from '../src/tfjs/engine.ts';
import { selectTfjsBackend, type TfjsBackendChoice } from '../src/tfjs/backend.ts';
import { median } from '../src/util/stats.ts';
import { loadNifti } from '../src/node/read.ts';

const quick = process.argv.includes('--quick');
const N = 10; // STRAINER-10 (REFERENCE.md)

interface Size {
  res: number;
  width: number;
  depth: number;
  rounds: number;
  steps: number;
  cpuSteps: number;
}
// A: the size (64x64, width 256, the paper's depth 6). B: small enough for tfjs's pure-JS cpu backend.
// The machine is shared, so engines take turns: `rounds` rounds, each running every engine for 1 warm-up
// step + `steps` timed steps (the cpu backend: `cpuSteps`, first round only), so load spikes hit all alike.
const SIZES: Size[] = quick
  ? [{ res: 16, width: 32, depth: 4, rounds: 2, steps: 3, cpuSteps: 2 }]
  : [
      { res: 64, width: 256, depth: 6, rounds: 3, steps: 8, cpuSteps: 3 },
      { res: 32, width: 64, depth: 6, rounds: 3, steps: 8, cpuSteps: 8 },
    ];

const ORT_1 = '1 thread';

interface Row {
  size: string;
  engine: string;
  ms: number | null;
  spread: string;
  steps: number;
  note: string;
}
interface Contender {
  label: string;
  note: string;
  steps: (round: number) => number;
  run: (iters: number) => Promise<PretrainResult>;
}

const sh = (cmd: string): string => {
  try {
    return execSync(cmd, { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
};
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

async function main(): Promise<void> {
  const vol = loadNifti('data/ch2bet.nii.gz');
  const split = referenceSplit(vol);
  const rows: Row[] = [];
  const loadStart = load();
  // Which tfjs backends exist here at all (the native ones are optional packages).
  const present: TfjsBackendChoice[] = [];
  const absent: Row[] = [];
  for (const b of ['node-gpu', 'node', 'wasm', 'cpu'] as const) {
    try {
      await selectTfjsBackend(b);
      present.push(b);
    } catch (e) {
      absent.push({ size: 'all', engine: `tfjs ${b}`, ms: null, spread: '', steps: 0, note: (e as Error).message });
    }
  }
  for (const s of SIZES) {
    const signals = split.train.slice(0, N).map((z) => mriSliceImage(vol, z, s.res));
    const config: InrConfig = { kind: 'siren', inDim: 2, outDim: 1, width: s.width, depth: s.depth, omega: 30 };
    const opts = (iters: number): PretrainOptions => ({ config, iters, lr: 1e-4, seed: 0, range: 'unit' });
    const size = `${s.res}x${s.res}, width ${s.width}, depth ${s.depth}, N=${N}`;
    const contenders: Contender[] = [cpus().length, 1].map((threads) => ({
      label: threads === 1 ? `onnxruntime-node (cpu), ${ORT_1}` : `onnxruntime-node (cpu), ${threads} threads`,
      note: '',
      steps: () => s.steps,
      run: (it) => pretrainOrt(ortNodeBackend({ threads }), signals, opts(it)),
    }));
    for (const b of present) {
      const wasmThreads = b === 'wasm' && tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
      contenders.push({
        label: `tfjs (${b})`,
        note:
          b === 'wasm'
            ? wasmThreads
              ? 'multithreaded wasm'
              : '1 thread: no wasm threads in Node (WASM_HAS_MULTITHREAD_SUPPORT false)'
            : b === 'cpu'
              ? '1 thread, pure JS; first round only'
              : '',
        steps: (round) => (b === 'cpu' ? (round === 0 ? s.cpuSteps : 0) : s.steps),
        run: (it) => makeTfjsEngine({ backend: b, log: () => {} })(signals, opts(it)),
      });
    }
    const times = new Map<string, number[][]>(contenders.map((c) => [c.label, []]));
    for (let round = 0; round < s.rounds; round++) {
      for (const c of contenders) {
        const k = c.steps(round);
        if (k === 0) continue;
        const r = await c.run(1 + k);
        times.get(c.label)!.push(r.stepMs.slice(1));
        process.stderr.write(`${size}  round ${round}  ${r.engine}: ${median(r.stepMs.slice(1)).toFixed(1)} ms/step\n`);
      }
    }
    for (const c of contenders) {
      const perRound = times.get(c.label)!;
      const all = perRound.flat();
      const meds = perRound.map(median);
      rows.push({
        size,
        engine: c.label,
        ms: median(all),
        spread: perRound.length > 1 ? `${Math.min(...meds).toFixed(1)}-${Math.max(...meds).toFixed(1)}` : '',
        steps: all.length,
        note: c.note,
      });
    }
  }
  const machine = `${sh("lscpu | sed -n 's/^Model name: *//p'")}, nproc ${sh('nproc')}, Node ${process.version}, @tensorflow/tfjs ${tf.version.tfjs}`;
  const md: string[] = [
    '# Pretraining step time: TensorFlow.js engine vs onnxruntime engine',
    '',
    `Generated by \`npm run bench:tfjs\` (scripts/bench-tfjs.ts) on ${new Date().toISOString().slice(0, 10)}; all rows measured in one run on one machine.`,
    '',
    `Machine: ${machine}. Load average (1/5/15 min) at start ${loadStart}, at end ${load()}: the machine is shared, so the engines took turns in rounds (see the script) and the spread column gives the range of per-round medians.`,
    '',
    `Workload: one STRAINER pretraining step (shared SIREN encoder + ${N} stacked decoders, full image, loss = sum of per-image MSE, Adam), ${N} ch2bet MRI training slices, lr 1e-4. Step time includes downloading the loss (both engines do).`,
    '',
    '| size | engine | ms / step (median) | per-round medians | timed steps | x onnxruntime 1 thread | note |',
    '|---|---|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const base = rows.find((x) => x.size === r.size && x.engine.endsWith(ORT_1));
    const ratio = r.ms !== null && base?.ms ? `${(r.ms / base.ms).toFixed(1)}` : '';
    md.push(
      `| ${r.size} | ${r.engine} | ${r.ms === null ? '-' : r.ms.toFixed(1)} | ${r.spread} | ${r.steps} | ${ratio} | ${r.note} |`,
    );
  }
  for (const a of absent) md.push(`| ${a.size} | ${a.engine} | not measured | | 0 | | ${a.note.replace(/\|/g, '/')} |`);
  md.push(
    '',
    'Ratios are against onnxruntime-node with 1 thread because the tfjs backends present here run on one thread.',
    '',
  );
  process.stdout.write(md.join('\n'));
  if (!quick) {
    writeFileAtomic('bench/tfjs.md', md.join('\n'));
    process.stderr.write('wrote bench/tfjs.md\n');
  }
}

await main();
