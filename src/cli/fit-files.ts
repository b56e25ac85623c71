// The files of `strainer fit` (and of each signal of `strainer fit-many`): the input read by its kind
// (an image at --res, default 178; a WAV clip as stored; a volume at --res^3, default 64), and, beside
// the fit bundle, what a person looks at: the PSNR curve (CSV + SVG) and the reconstruction — a PNG;
// a WAV with a waveform plot; a NIfTI volume with a PNG of its three middle planes over the target's.
import { basename } from 'node:path';
import { encodePng, makeImage, type Image } from '../data/image.ts';
import { describeSignal, imageSignal, middleSlices, type Signal } from '../data/signal.ts';
import { encodeWav, signalWav, snrDb, type WavEncoding } from '../data/wav.ts';
import { encodeNifti } from '../data/volume.ts';
import { waveformImage, waveformSvg, TRACE_COLORS } from '../data/waveform.ts';
import { psnrCurve, type FitResult } from '../train/fit.ts';
import { DEFAULT_RES } from '../train/plan.ts';
import { readImage } from '../node/api.ts';
import { readAudio, readVolume, type VolumeRead } from '../node/signals.ts';
import { signalFileKind, type SignalFileKind } from '../node/read.ts';
import { lineChartSvg } from '../util/plot.ts';
import { UserError } from '../util/errors.ts';

/** Default side of a volume's cube: 64^3 = 262144 voxels, four random batches' worth per pass. */
export const VOLUME_RES = 64;

/** A file to fit: its signal and what its outputs need (a clip's rate and encoding, a volume's scale). */
export interface FitInput {
  path: string;
  kind: SignalFileKind;
  signal: Signal;
  rate?: number;
  encoding?: WavEncoding;
  volume?: VolumeRead;
}

/** Reads (and checks) a whole input before any work, so a bad file writes nothing. */
export function readFitInput(path: string, o: { res?: number; channels: 'auto' | '1' | '3' }): FitInput {
  const kind = signalFileKind(path);
  switch (kind) {
    case 'image': {
      const channels = o.channels === 'auto' ? 'auto' : (Number(o.channels) as 1 | 3);
      return { path, kind, signal: imageSignal(readImage(path, { res: o.res ?? DEFAULT_RES, channels })) };
    }
    case 'audio': {
      if (o.channels === '3')
        throw new UserError(`${path}: --channels 3 applies to images; a clip takes auto or 1 (mix down to mono)`);
      const a = readAudio(path, { channels: o.channels === '1' ? 1 : 'auto' });
      return { path, kind, signal: a.signal, rate: a.rate, encoding: a.encoding };
    }
    case 'volume': {
      if (o.channels !== 'auto')
        throw new UserError(`${path}: --channels does not apply to a volume (volumes have one channel)`);
      const volume = readVolume(path, { res: o.res ?? VOLUME_RES });
      return { path, kind, signal: volume.signal, volume };
    }
    default:
      return kind satisfies never;
  }
}

/** Measured quality beyond PSNR that the bundle records: a clip's SNR; a volume's units and voxel size
 *  (`strainer render` writes value_scale as scl_slope and scales voxel_mm to its resolution). */
export function inputEval(input: FitInput, r: FitResult<Signal>): Record<string, unknown> {
  if (input.kind === 'audio') return { snr_db: +snrDb(r.output.data, input.signal.data).toFixed(3) };
  if (input.volume) return { value_scale: input.volume.scale, voxel_mm: input.volume.voxel };
  return {};
}

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

/** The files written beside the bundle: psnr.csv, psnr.svg and the reconstruction in the input's form. */
export function fitFiles(input: FitInput, r: FitResult<Signal>): Record<string, Uint8Array> {
  const name = basename(input.path),
    sig = input.signal,
    batch = r.plan.batch;
  const curve = psnrCurve(r);
  const enc = new TextEncoder();
  const csv = ['iteration,psnr_db', ...curve.map((p, i) => `${i},${p.toFixed(4)}`)].join('\n') + '\n';
  const svg = lineChartSvg(
    [
      {
        name: r.plan.prior ? `from prior ${r.plan.prior}` : 'SIREN (random init)',
        points: curve.map((p, i) => [i, p] as const),
      },
    ],
    {
      title: `Fitting ${name} (${describeSignal(sig)}${batch ? `; PSNR of each random batch of ${batch}` : ''})`,
      xlabel: 'iteration',
      ylabel: 'PSNR (dB)',
    },
  );
  const files: Record<string, Uint8Array> = { 'psnr.csv': enc.encode(csv), 'psnr.svg': enc.encode(svg) };
  const out = r.output;
  switch (input.kind) {
    case 'image':
      files['reconstruction.png'] = encodePng({
        width: sig.dims[1],
        height: sig.dims[0],
        channels: sig.channels as 1 | 3,
        data: out.data,
      });
      break;
    case 'audio': {
      const rate = input.rate!;
      const target = signalWav(sig, rate),
        recon = signalWav(out, rate);
      const diff = target.samples.map((y, i) => y - recon.samples[i]);
      // Plot channel 0 (the only one of a mono clip).
      const ch0 = (x: Float32Array): Float32Array => x.filter((_, i) => i % sig.channels === 0);
      const traces = [
        { name: 'target', samples: ch0(target.samples), color: TRACE_COLORS[0] },
        { name: `reconstruction (${r.finalPsnr.toFixed(1)} dB)`, samples: ch0(recon.samples), color: TRACE_COLORS[1] },
        { name: 'target - reconstruction', samples: ch0(diff), color: TRACE_COLORS[2] },
      ];
      const snr = snrDb(out.data, sig.data);
      files['reconstruction.wav'] = encodeWav(recon, { encoding: input.encoding });
      files['waveform.svg'] = enc.encode(
        waveformSvg(traces, {
          rate,
          title: `${name}: target and reconstruction, PSNR ${r.finalPsnr.toFixed(2)} dB, SNR ${snr.toFixed(2)} dB`,
        }),
      );
      files['waveform.png'] = encodePng(waveformImage(traces));
      break;
    }
    case 'volume': {
      files['reconstruction.nii.gz'] = encodeNifti(out, {
        scale: input.volume!.scale,
        voxel: input.volume!.voxel,
        gzip: true,
      });
      const k = Math.floor(128 / Math.max(...sig.dims)); // planes at least ~128 px tall
      files['slices.png'] = encodePng(stack(enlarge(middleSlices(sig), k), enlarge(middleSlices(out), k)));
      break;
    }
    default:
      return input.kind satisfies never;
  }
  return files;
}
