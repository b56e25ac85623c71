// Audio for web apps: a WAV file (a File or Blob) as a clip — a 1-D Signal on the pipeline's [0, 1]
// scale, decoded by the core's own reader (src/data/wav.ts, which checks every header size before
// allocating) — brought to a prior's sample rate by the browser's own resampler (OfflineAudioContext),
// and back to Web Audio samples for playback. Only WAV is read: it is what the CLI and priors use.
import { mixDown, parseWav, wavSignal, type Wav } from '../data/wav.ts';
import { makeSignal, type Signal } from '../data/signal.ts';
import type { SizeLimit } from '../data/limits.ts';
import { UserError } from '../util/errors.ts';

export interface Clip {
  /** [frames] with one channel per channel kept, values (y + 1) / 2 for samples y in [-1, 1]. */
  signal: Signal;
  /** Frames per second. */
  rate: number;
  /** Channels the file had (the clip is mono when `mono` was asked and the file had more). */
  fileChannels: number;
  name: string;
}

/** Most bytes a WAV file handed to decodeWav may have: 512 MB, ~50 minutes of 44.1 kHz stereo 16-bit
 *  (the decoder's sample limit, src/data/limits.ts, refuses long clips from the header anyway). */
export const MAX_WAV_BYTES = 512 * 2 ** 20;

/** Whether the first bytes of a file are a RIFF/WAVE header (`RIFF`, size, `WAVE`). */
export function isWav(head: Uint8Array): boolean {
  const tag = (at: number): string => String.fromCharCode(...head.subarray(at, at + 4));
  return head.length >= 12 && tag(0) === 'RIFF' && tag(8) === 'WAVE';
}

/** Decodes a WAV file into a clip; `mono` (default true) mixes several channels into one (the mean). */
export async function decodeWav(blob: Blob, name: string, o: SizeLimit & { mono?: boolean } = {}): Promise<Clip> {
  if (blob.size > MAX_WAV_BYTES)
    throw new UserError(`${name}: ${blob.size} bytes is more than a WAV clip may have here (${MAX_WAV_BYTES})`);
  const bytes = new Uint8Array(await blob.arrayBuffer());
  if (!isWav(bytes)) throw new UserError(`${name} is not a WAV file (no RIFF/WAVE header)`);
  const wav: Wav = parseWav(bytes, name, o); // refuses an empty clip too
  const kept = o.mono === false ? wav : mixDown(wav);
  return { signal: wavSignal(kept), rate: wav.rate, fileChannels: wav.channels, name };
}

/** The clip's samples in [-1, 1] for Web Audio, one array per channel (clamped: a fit may overshoot). */
export function clipChannels(s: Signal): Float32Array[] {
  if (s.dims.length !== 1) throw new UserError(`a clip is a 1-D signal; this one is ${s.dims.length}-D`);
  const n = s.dims[0];
  return Array.from({ length: s.channels }, (_, c) => {
    const out = new Float32Array(n);
    for (let f = 0; f < n; f++) out[f] = Math.max(-1, Math.min(1, 2 * s.data[f * s.channels + c] - 1));
    return out;
  });
}

/** A Web Audio buffer holding the clip at `rate` (8 kHz and up: AudioBuffer's lower limit is 3 kHz). */
export function toAudioBuffer(ctx: BaseAudioContext, s: Signal, rate: number): AudioBuffer {
  const chans = clipChannels(s);
  const buf = ctx.createBuffer(chans.length, s.dims[0], rate);
  chans.forEach((c, k) => buf.copyToChannel(c as Float32Array<ArrayBuffer>, k));
  return buf;
}

/** The clip at another sample rate, through the browser's resampler (an OfflineAudioContext rendering
 *  the clip at the new rate), e.g. a 44.1 kHz recording for an 8 kHz prior; `rate` undefined (a prior
 *  that records no rate) or equal to the clip's returns the clip itself. */
export async function resampleClip(clip: Clip, rate: number | undefined): Promise<Clip> {
  if (rate === undefined || clip.rate === rate) return clip;
  if (!(Number.isInteger(rate) && rate >= 3000 && rate <= 768_000))
    throw new UserError(`cannot resample to ${rate} Hz (Web Audio takes 3000 to 768000)`);
  if (typeof OfflineAudioContext === 'undefined')
    throw new UserError(
      `this browser has no OfflineAudioContext to resample ${clip.name} from ${clip.rate} to ${rate} Hz`,
    );
  const frames = Math.max(1, Math.round((clip.signal.dims[0] * rate) / clip.rate));
  const ctx = new OfflineAudioContext(clip.signal.channels, frames, rate);
  const src = ctx.createBufferSource();
  src.buffer = toAudioBuffer(ctx, clip.signal, clip.rate);
  src.connect(ctx.destination);
  src.start();
  const out = await ctx.startRendering();
  const data = new Float32Array(frames * out.numberOfChannels);
  for (let c = 0; c < out.numberOfChannels; c++) {
    const ch = out.getChannelData(c);
    for (let f = 0; f < frames; f++) data[f * out.numberOfChannels + c] = (Math.max(-1, Math.min(1, ch[f])) + 1) / 2;
  }
  return { ...clip, signal: makeSignal([frames], out.numberOfChannels, data), rate };
}
