// Audio benchmarks on the speech clips of scripts/fetch-data.sh (asterisk-core-sounds-en-wav, one
// speaker, 8 kHz): `--part omega` fits two clips outside the evaluation set (letters/d, letters/e) from
// a random SIREN with first-layer omega_0 in {300, 1000, 3000, 10000}, to choose the audio default
// (bench/audio-omega.json); `--part prior` pretrains the speech prior on digits/0..9 (the reference
// recipe: width 256, 6 layers, omega_0 3000, Adam 1e-4, clips zero-padded to the longest, 1000
// iterations), writes it to models/speech-10 with its held-out measurement in the manifest, and
// measures it against a random SIREN on five held-out clips at iterations 0/50/100/200/500
// (bench/audio.json); `--part padded` fits the same held-out clips zero-padded to 7290 samples, padding
// included in fit and PSNR (what the reference implementation's protocol does), to 200 iterations
// (bench/audio-padded.json). Each part then rewrites bench/audio.md from the JSON files it finds.
//   npx tsx scripts/bench-audio.ts --part omega && npx tsx scripts/bench-audio.ts --part prior && npx tsx scripts/bench-audio.ts --part padded
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { readAudio, pretrain, fit, loadPrior, signals, train, type Audio } from '../src/node/index.ts';
import { nodeBackend } from '../src/node/backend.ts';

const { padEnd, SILENCE } = signals;
const { transferGain, AUDIO_CONFIG } = train;
import { cachedDataset, missingDatasetMessage } from '../src/node/datasets.ts';
import { sha256Hex } from '../src/util/sha256.ts';

const part = process.argv[process.argv.indexOf('--part') + 1];
const dir = cachedDataset('speech');
if (!dir) {
  console.error(missingDatasetMessage('speech'));
  process.exit(2);
}
const TRAIN = Array.from({ length: 10 }, (_, i) => `digits/${i}`);
const TEST = ['digits/10', 'digits/12', 'letters/a', 'letters/b', 'letters/c'];
const SWEEP_CLIPS = ['letters/d', 'letters/e'];
const OMEGAS = [300, 1000, 3000, 10000];
const AT = [0, 50, 100, 200, 500];
const clip = (id: string): Audio => readAudio(join(dir, `${id}.wav`));
const mean = (x: number[]): number => x.reduce((a, b) => a + b, 0) / x.length;
const std = (x: number[]): number => {
  const m = mean(x);
  return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length);
};
const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), onnxruntime-node cpu`;

if (part === 'omega') {
  const iters = 200,
    rows: Record<string, number[][]> = {};
  for (const w0 of OMEGAS) {
    rows[w0] = [];
    for (const id of SWEEP_CLIPS) {
      const r = await fit(clip(id).signal, { iters, model: { omega0: w0 }, seed: 0 });
      rows[w0].push([0, 50, 100, 200].map((i) => (i < iters ? r.psnr[i] : r.finalPsnr)));
      console.error(`omega0 ${w0} ${id}: ${rows[w0][rows[w0].length - 1].map((p) => p.toFixed(2)).join(' ')}`);
    }
  }
  writeFileSync(
    'bench/audio-omega.json',
    JSON.stringify(
      { clips: SWEEP_CLIPS, iters, at: [0, 50, 100, 200], psnr: rows, machine, date: new Date().toISOString() },
      null,
      2,
    ) + '\n',
  );
} else if (part === 'prior') {
  const train = TRAIN.map(clip),
    test = TEST.map((id) => ({ id, signal: clip(id).signal }));
  const files = await Promise.all(
    [...TRAIN, ...TEST].map(async (id) => ({
      path: `speech/${id}.wav`,
      sha256: await sha256Hex(new Uint8Array(readFileSync(join(dir, `${id}.wav`)))),
    })),
  );
  const t0 = performance.now();
  let last = 0;
  const r = await pretrain(
    train.map((a) => a.signal),
    {
      iters: 1000,
      lr: 1e-4,
      seed: 0,
      rate: 8000,
      ids: TRAIN,
      testSignals: test,
      gainIters: 500,
      gainAt: AT,
      gainHeadline: 100,
      data: {
        description:
          'asterisk-core-sounds-en-wav 1.6.1-1 (Debian), en_US_f_Allison: digits/0..9 for training (zero-padded to the longest, 7290 samples), 5 held-out prompts; 8 kHz 16-bit mono, CC BY-SA 3.0',
        files,
      },
      name: 'speech-10',
      out: 'models/speech-10',
      force: true,
      onStep: ({ it, loss, psnr }) => {
        if (it - last >= 100 || it === 0) {
          last = it;
          console.error(`pretrain ${it} loss ${loss.toExponential(3)} mean PSNR ${psnr.toFixed(2)}`);
        }
      },
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  writeFileSync(
    'bench/audio.json',
    JSON.stringify(
      {
        gain: r.gain,
        pretrain_final_mean_psnr: r.psnr[r.psnr.length - 1],
        seconds: +seconds.toFixed(1),
        machine,
        date: new Date().toISOString(),
      },
      null,
      2,
    ) + '\n',
  );
} else if (part === 'padded') {
  const prior = await loadPrior('models/speech-10');
  const n = prior.dims![0],
    iters = 200,
    t0 = performance.now();
  const test = TEST.map((id) => ({ id, signal: padEnd(clip(id).signal, n, SILENCE) }));
  const gain = await transferGain(nodeBackend('ort'), prior, test, {
    iters,
    lr: 1e-4,
    seed: 0,
    at: [0, 50, 100, 200],
    headline: 100,
  });
  writeFileSync(
    'bench/audio-padded.json',
    JSON.stringify(
      {
        gain,
        length: n,
        seconds: +((performance.now() - t0) / 1000).toFixed(1),
        machine,
        date: new Date().toISOString(),
      },
      null,
      2,
    ) + '\n',
  );
} else if (part !== 'md') {
  console.error('usage: npx tsx scripts/bench-audio.ts --part omega|prior|padded|md (md: only rewrite bench/audio.md)');
  process.exit(2);
}

// bench/audio.md from whatever measurements exist.
const md: string[] = [
  '# Audio: the speech prior against a random SIREN',
  '',
  `Data: Debian \`asterisk-core-sounds-en-wav\` 1.6.1-1 (one speaker, 8 kHz 16-bit mono, CC BY-SA 3.0; \`npm run fetch-data\`).`,
  `Model: SIREN width ${AUDIO_CONFIG.width}, ${AUDIO_CONFIG.depth} layers, hidden omega ${AUDIO_CONFIG.omega}, first-layer omega_0 ${AUDIO_CONFIG.omega0}, Adam lr 1e-4, full clip every step, targets y in [-1, 1];`,
  "PSNR of (y + 1) / 2 with data range 1 (the reference implementation's measure), over the clip's own samples, before each update; seed 0 for both methods.",
  'Regenerate: `npx tsx scripts/bench-audio.ts --part omega`, `--part prior`, `--part padded` (each rewrites this file from the JSON files beside it).',
  '',
];
if (existsSync('bench/audio.json')) {
  const j = JSON.parse(readFileSync('bench/audio.json', 'utf8'));
  const per = j.gain.per_image as { id: string; at: number[]; strainer: number[]; siren: number[] }[];
  const at: number[] = per[0].at;
  const col = (k: 'strainer' | 'siren' | 'gain', a: number): number[] =>
    per.map((p) => (k === 'gain' ? p.strainer[a] - p.siren[a] : p[k][a]));
  const cell = (xs: number[]): string => `${mean(xs).toFixed(2)} ± ${std(xs).toFixed(2)}`;
  md.push(
    '## Prior vs SIREN on held-out clips',
    '',
    `Prior \`models/speech-10\`: STRAINER-10 pretrained 1000 iterations on digits/0..9 (zero-padded to 7290 samples). Held out: ${per.map((p) => p.id).join(', ')}`,
    `each fitted on the prior's time grid (sample i at -1 + 2i/(7290 - 1), as if zero-padded with silence; the padding is not fitted), by both methods alike.`,
    `One run, ${j.date.slice(0, 10)}, ${j.machine}, ${j.seconds} s in all; mean ± std over the ${per.length} clips (population std).`,
    '',
    `| iteration | ${at.join(' | ')} |`,
    `|---|${at.map(() => '---').join('|')}|`,
    `| SIREN (random init) | ${at.map((_, a) => cell(col('siren', a))).join(' | ')} |`,
    `| STRAINER (speech-10) | ${at.map((_, a) => cell(col('strainer', a))).join(' | ')} |`,
    `| gain | ${at.map((_, a) => cell(col('gain', a))).join(' | ')} |`,
    '',
    'Per clip (PSNR dB, SIREN / STRAINER):',
    '',
    `| clip | ${at.join(' | ')} |`,
    `|---|${at.map(() => '---').join('|')}|`,
    ...per.map(
      (p) => `| ${p.id} | ${at.map((_, a) => `${p.siren[a].toFixed(2)} / ${p.strainer[a].toFixed(2)}`).join(' | ')} |`,
    ),
    '',
    "The reference implementation (JAX, same recipe) reports on three held-out clips of this speaker 59.1 dB from random init and 76.9 dB from the prior at iteration 100 (+17.8 dB), +24.9 dB at 200; the issue's goal is +15 dB at iteration 100.",
    "Beyond ~95 dB (the 16-bit clips' quantization step is 2^-16 of the [0, 1] range) Adam at lr 1e-4 oscillates, so iteration 500 is noisy for both methods.",
    '',
  );
}
if (existsSync('bench/audio-padded.json')) {
  const j = JSON.parse(readFileSync('bench/audio-padded.json', 'utf8'));
  const per = j.gain.per_image as { id: string; at: number[]; strainer: number[]; siren: number[] }[];
  const at: number[] = per[0].at;
  const col = (k: 'strainer' | 'siren' | 'gain', a: number): number[] =>
    per.map((p) => (k === 'gain' ? p.strainer[a] - p.siren[a] : p[k][a]));
  const cell = (xs: number[]): string => `${mean(xs).toFixed(2)} ± ${std(xs).toFixed(2)}`;
  md.push(
    '## The same clips zero-padded (the reference protocol)',
    '',
    `The five held-out clips zero-padded at the end to ${j.length} samples and fitted whole, padding included in the loss and in the PSNR; otherwise as above. One run, ${j.date.slice(0, 10)}, ${j.seconds} s.`,
    '',
    `| iteration | ${at.join(' | ')} |`,
    `|---|${at.map(() => '---').join('|')}|`,
    `| SIREN (random init) | ${at.map((_, a) => cell(col('siren', a))).join(' | ')} |`,
    `| STRAINER (speech-10) | ${at.map((_, a) => cell(col('strainer', a))).join(' | ')} |`,
    `| gain | ${at.map((_, a) => cell(col('gain', a))).join(' | ')} |`,
    '',
  );
}
if (existsSync('bench/audio-omega.json')) {
  const j = JSON.parse(readFileSync('bench/audio-omega.json', 'utf8'));
  md.push(
    '## Choosing the first-layer omega_0',
    '',
    `Random SIREN (width 256, 6 layers, hidden omega 30, Adam 1e-4) on ${j.clips.join(' and ')} (not in the evaluation set), mean PSNR (dB) of the two; ${j.date.slice(0, 10)}, ${j.machine}.`,
    '',
    `| omega_0 | ${j.at.map((i: number) => `it ${i}`).join(' | ')} |`,
    `|---|${j.at.map(() => '---').join('|')}|`,
    ...Object.entries(j.psnr as Record<string, number[][]>).map(
      ([w0, rows]) =>
        `| ${w0} | ${j.at.map((_: number, a: number) => mean(rows.map((r) => r[a])).toFixed(2)).join(' | ')} |`,
    ),
    '',
  );
}
writeFileSync('bench/audio.md', md.join('\n'));
console.error('wrote bench/audio.md');
