// `strainer fit clip.wav` and `strainer fit volume.nii.gz|.npy`: the clip and volume side of `strainer
// fit` (./fit.ts dispatches here by extension). A clip is fitted as stored (SIREN's audio model by
// default, or an audio prior keeping its time scale), PSNR and SNR reported; a volume is brought to
// res^3 (default 64) and fitted in random coordinate batches when it is larger than one step takes
// (fit-config.ts MAX_STEP_ROWS). With --out: the reconstruction (WAV, or NIfTI plus a PNG of the three
// middle slices of target and fit), the PSNR curve (CSV + SVG), a waveform plot (SVG + PNG) for clips,
// and the fitted signal as a bundle that `strainer render` renders at any resolution.
import { basename, resolve } from 'node:path';
import { progress } from './progress.ts';
import { loadCliPrior } from './verify.ts';
import { cliBackend } from './backend-choice.ts';
import { readAudio, readVolume } from '../node/signals.ts';
import { checkOutDir, writeBundleDir } from '../node/fs.ts';
import { fitSignal, psnrAt } from '../train/fit.ts';
import { resolveFit } from '../train/fit-config.ts';
import { fitBundle, manifestSignal } from '../export/fit-bundle.ts';
import { describeSignal, middleSlices, sampleCount, type Signal } from '../data/signal.ts';
import { encodeWav, signalWav, snrDb, type WavEncoding } from '../data/wav.ts';
import { encodeNifti } from '../data/volume.ts';
import { waveformImage, waveformSvg, TRACE_COLORS } from '../data/waveform.ts';
import { encodePng, makeImage, type Image } from '../data/image.ts';
import type { SignalFileKind } from '../node/read.ts';
import { lineChartSvg } from '../util/plot.ts';
import { median } from '../util/stats.ts';
import { UserError } from '../util/errors.ts';
import type { TargetRange } from '../train/grid.ts';
import type { Ep, NodeBackendName } from '../node/backend.ts';

/** The flags of `strainer fit` this path reads (./fit.ts FitCliOptions, which it is called with). */
export interface SignalFitCliOptions {
  iters: number;
  res?: number;
  width?: number;
  depth?: number;
  omega?: number;
  omega0?: number;
  lr: number;
  seed: number;
  out?: string;
  json?: boolean;
  prior?: string;
  publicKey?: string;
  targets?: TargetRange;
  batch?: number;
  force?: boolean;
  channels: 'auto' | '1' | '3';
  ep?: Ep;
  threads?: number;
  backend?: NodeBackendName;
}

/** Default side of a volume's cube: 64^3 = 262144 voxels, four random batches' worth per pass. */
export const VOLUME_RES = 64;

/** Nearest-neighbour enlargement by an integer factor (small volumes' slices stay visible). */
function enlarge(a: Image, k: number): Image {
  if (k <= 1) return a;
  const out = makeImage(a.width * k, a.height * k, 1);
  for (let y = 0; y < out.height; y++)
    for (let x = 0; x < out.width; x++)
      out.data[y * out.width + x] = a.data[Math.floor(y / k) * a.width + Math.floor(x / k)];
  return out;
}

/** Two images one above the other on black (target over reconstruction). */
function stack(a: Image, b: Image): Image {
  const out = makeImage(Math.max(a.width, b.width), a.height + b.height + 2, 1);
  for (let y = 0; y < a.height; y++) out.data.set(a.data.subarray(y * a.width, (y + 1) * a.width), y * out.width);
  for (let y = 0; y < b.height; y++)
    out.data.set(b.data.subarray(y * b.width, (y + 1) * b.width), (a.height + 2 + y) * out.width);
  return out;
}

export async function runSignalFit(
  path: string,
  kind: Exclude<SignalFileKind, 'image'>,
  o: SignalFitCliOptions,
): Promise<void> {
  if (o.out) checkOutDir(o.out, o.force ?? false);
  if (kind === 'audio' && o.channels === '3')
    throw new UserError(`${path}: --channels 3 applies to images; a clip takes auto or 1 (mix down to mono)`);
  if (kind === 'volume' && o.channels !== 'auto')
    throw new UserError(`${path}: --channels does not apply to a volume (volumes have one channel)`);
  const prior = o.prior ? await loadCliPrior(o.prior, o.publicKey) : undefined;
  // Read (and check) the whole input before any work, so a bad file writes nothing.
  const audio = kind === 'audio' ? readAudio(path, { channels: o.channels === '1' ? 1 : 'auto' }) : null;
  const volume = kind === 'volume' ? readVolume(path, { res: o.res ?? VOLUME_RES }) : null;
  const sig: Signal = audio?.signal ?? volume!.signal;
  const r = resolveFit({
    prior,
    model: { width: o.width, depth: o.depth, omega: o.omega, omega0: o.omega0 },
    channels: sig.channels,
    dims: sig.dims,
    iters: o.iters,
    lr: o.lr,
    batch: o.batch,
    ...(audio ? { rate: audio.rate } : {}),
    ...(o.targets ? { range: o.targets } : {}),
  });
  const { backend } = await cliBackend(o);
  const rows = sampleCount(sig.dims);
  const label = `fit ${basename(path)} (${describeSignal(sig)}${r.batch ? `, random batches of ${r.batch}` : ''})`;
  const bar = progress(label, r.iters, false);
  const fr = await fitSignal(sig, {
    config: r.config,
    iters: r.iters,
    lr: r.lr,
    seed: o.seed,
    backend,
    range: r.range,
    ...(r.init ? { init: r.init } : {}),
    ...(r.batch ? { batch: r.batch } : {}),
    ...(r.lattice ? { lattice: r.lattice } : {}),
    keepState: !!o.out,
    onStep: (it, psnr, loss) => bar.update(it, loss, psnr),
  }).finally(() => bar.stop());
  const out: Signal = { ...sig, data: fr.output };
  const snr = audio ? snrDb(fr.output, sig.data) : undefined;

  if (o.out) {
    const name = basename(path);
    const csv =
      [
        'iteration,psnr_db',
        ...fr.psnr.map((p, i) => `${i},${p.toFixed(4)}`),
        `${r.iters},${fr.finalPsnr.toFixed(4)}`,
      ].join('\n') + '\n';
    const curve = lineChartSvg(
      [
        {
          name: prior ? `from prior ${prior.name}` : 'SIREN (random init)',
          points: [...fr.psnr.map((p, i) => [i, p] as const), [r.iters, fr.finalPsnr] as const],
        },
      ],
      {
        title: `Fitting ${name} (${describeSignal(sig)}${r.batch ? `; PSNR of each random batch of ${r.batch}` : ''})`,
        xlabel: 'iteration',
        ylabel: 'PSNR (dB)',
      },
    );
    const enc = new TextEncoder();
    const extra: Record<string, Uint8Array> = { 'psnr.csv': enc.encode(csv), 'psnr.svg': enc.encode(curve) };
    if (audio) {
      const target = signalWav(sig, audio.rate),
        recon = signalWav(out, audio.rate);
      const diff = target.samples.map((y, i) => y - recon.samples[i]);
      // Plot channel 0 (the only one of a mono clip).
      const ch0 = (x: Float32Array): Float32Array => x.filter((_, i) => i % sig.channels === 0);
      const traces = [
        { name: 'target', samples: ch0(target.samples), color: TRACE_COLORS[0] },
        { name: `reconstruction (${fr.finalPsnr.toFixed(1)} dB)`, samples: ch0(recon.samples), color: TRACE_COLORS[1] },
        { name: 'target - reconstruction', samples: ch0(diff), color: TRACE_COLORS[2] },
      ];
      const encoding: WavEncoding = audio.encoding;
      extra['reconstruction.wav'] = encodeWav(recon, { encoding });
      extra['waveform.svg'] = enc.encode(
        waveformSvg(traces, {
          rate: audio.rate,
          title: `${name}: target and reconstruction, PSNR ${fr.finalPsnr.toFixed(2)} dB, SNR ${snr!.toFixed(2)} dB`,
        }),
      );
      extra['waveform.png'] = encodePng(waveformImage(traces));
    } else {
      extra['reconstruction.nii.gz'] = encodeNifti(out, { scale: volume!.scale, voxel: volume!.voxel, gzip: true });
      const k = Math.floor(128 / Math.max(...sig.dims)); // planes at least ~128 px tall
      extra['slices.png'] = encodePng(stack(enlarge(middleSlices(sig), k), enlarge(middleSlices(out), k)));
    }
    const bundle = await fitBundle({
      name,
      config: r.config,
      range: r.range,
      lr: r.lr,
      iters: r.iters,
      state: fr.state!,
      signal: manifestSignal(sig.dims, sig.channels, {
        source: name,
        ...(audio ? { rate: audio.rate } : {}),
        ...(r.lattice ? { lattice: r.lattice } : {}),
      }),
      ...(r.batch ? { batch: r.batch } : {}),
      finalLoss: fr.psnr.length ? 10 ** (-fr.psnr[fr.psnr.length - 1] / 10) : NaN,
      engine: fr.backend,
      // value_scale: what restores a volume's stored units from the [0, 1] fit (render writes it as scl_slope);
      // voxel_mm: the fitted grid's voxel size (x, y, z), which render scales to its own resolution.
      eval: {
        psnr: +fr.finalPsnr.toFixed(3),
        ...(snr !== undefined ? { snr_db: +snr.toFixed(3) } : {}),
        ...(volume ? { value_scale: volume.scale, voxel_mm: volume.voxel } : {}),
        ...(prior ? { prior: prior.name } : {}),
      },
      extra,
    });
    writeBundleDir(o.out, bundle, o.force ?? false);
    process.stderr.write(
      `wrote ${resolve(o.out)} (${Object.keys(extra).join(', ')}, manifest.json, inference.onnx, train_step.onnx, weights.bin)\n`,
    );
  }

  const summary = {
    psnr: psnrAt(fr, r.iters),
    final_psnr: +fr.finalPsnr.toFixed(3),
    ...(snr !== undefined ? { snr_db: +snr.toFixed(3) } : {}),
    iters: r.iters,
    step_ms_median: +median(fr.stepMs).toFixed(2),
    kind,
    dims: sig.dims,
    channels: sig.channels,
    ...(audio ? { rate: audio.rate } : {}),
    ...(volume ? { stored_dims: volume.stored } : {}),
    // Random batches: the per-iteration PSNR is that of each step's batch; final_psnr is the whole grid's.
    batch: r.batch ?? rows,
    batch_mode: r.batch ? 'random' : 'full',
    ...(r.lattice ? { lattice: r.lattice } : {}),
    width: r.config.width,
    omega: r.config.omega,
    omega0: r.config.omega0 ?? r.config.omega,
    backend: fr.backend,
    ...(prior ? { prior: prior.name } : {}),
  };
  if (o.json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
  } else {
    const cols = Object.entries(summary.psnr)
      .map(([k, v]) => `${k}: ${v.toFixed(2)}`)
      .join('  ');
    process.stdout.write(
      `PSNR (dB) at iteration  ${cols}${r.batch ? ` (of each step's random batch of ${r.batch})` : ''}\n` +
        `final PSNR ${summary.final_psnr.toFixed(2)} dB${snr !== undefined ? `, SNR ${snr.toFixed(2)} dB` : ''} after ${r.iters} iterations on ${describeSignal(sig)}, median step ${summary.step_ms_median} ms on ${fr.backend}\n`,
    );
  }
}
