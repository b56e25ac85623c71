// WAV (RIFF/WAVE) audio: a reader and a writer of our own, and clips as 1-D signals. Own code rather
// than a library (`wavefile`, `node-wav`): the format we need is small (a RIFF chunk walk, the fmt
// chunk, the data chunk; about 150 lines), and we must check every size in the header before
// allocating (src/data/limits.ts) and end a bad file in one UserError line, which a library's own
// errors and eager decoding would not give us; no dependency, platform-neutral (the browser uses it too).
// Layout: Microsoft "Multimedia Programming Interface and Data Specifications 1.0" (RIFF, WAVE, fmt,
// data; 1991) and "Multiple channel audio data and WAVE files" (WAVE_FORMAT_EXTENSIBLE, 0xFFFE).
// Reads PCM 8 (unsigned), 16, 24, 32 bit and IEEE float 32/64, any channel count up to 8, any rate.
import { UserError, check } from '../util/errors.ts';
import { checkPixels, type SizeLimit } from './limits.ts';
import { makeSignal, type Signal } from './signal.ts';

export interface Wav {
  /** Frames (samples per channel) per second. */
  rate: number;
  channels: number;
  /** Frames: samples per channel. */
  frames: number;
  /** How the file stored them. */
  encoding: WavEncoding;
  /** Interleaved (frame-major) samples in [-1, 1]: frame f channel c at f * channels + c. */
  samples: Float32Array;
}

export type WavEncoding = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';

const FORMAT_PCM = 1, FORMAT_FLOAT = 3, FORMAT_EXTENSIBLE = 0xfffe;
// KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT: the format code in the first two bytes of the GUID, then
// the fixed tail 0000-0010-8000-00AA00389B71 (mmreg.h / ksmedia.h).
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
/** Most channels we read: 8 (7.1 surround); a header claiming more is taken to be corrupt. */
export const MAX_WAV_CHANNELS = 8;
/** Highest sample rate we accept: 768 kHz, the top rate of current audio interfaces; 0 or more is a corrupt header. */
export const MAX_WAV_RATE = 768_000;

type Reader = (v: DataView, at: number) => number;
// Full-scale divisors keep integer samples exact in float32 and make write(read(x)) = x (no 2^n - 1 asymmetry).
const READERS: Record<WavEncoding, { bytes: number; read: Reader }> = {
  pcm8: { bytes: 1, read: (v, at) => (v.getUint8(at) - 128) / 128 },
  pcm16: { bytes: 2, read: (v, at) => v.getInt16(at, true) / 32768 },
  pcm24: { bytes: 3, read: (v, at) => ((v.getUint8(at) | (v.getUint8(at + 1) << 8) | (v.getInt8(at + 2) << 16))) / 8388608 },
  pcm32: { bytes: 4, read: (v, at) => v.getInt32(at, true) / 2147483648 },
  float32: { bytes: 4, read: (v, at) => v.getFloat32(at, true) },
  float64: { bytes: 8, read: (v, at) => v.getFloat64(at, true) },
};

const fourcc = (b: Uint8Array, at: number): string => String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);

/** The fmt chunk's format code, channels, rate and sample encoding, checked for consistency. */
function parseFmt(b: Uint8Array, v: DataView, at: number, size: number, name: string): { rate: number; channels: number; encoding: WavEncoding; block: number } {
  check(size >= 16, `${name}: fmt chunk too short (${size} bytes)`);
  let format = v.getUint16(at, true);
  const channels = v.getUint16(at + 2, true), rate = v.getUint32(at + 4, true);
  const block = v.getUint16(at + 12, true), bits = v.getUint16(at + 14, true);
  if (format === FORMAT_EXTENSIBLE) {
    check(size >= 40, `${name}: WAVE_FORMAT_EXTENSIBLE fmt chunk too short (${size} bytes)`);
    const guid = b.subarray(at + 24, at + 40);
    check(GUID_TAIL.every((x, i) => guid[i + 2] === x), `${name}: unknown WAVE_FORMAT_EXTENSIBLE sub-format`);
    format = guid[0] | (guid[1] << 8);
  }
  const encoding: WavEncoding | undefined = format === FORMAT_PCM ? ({ 8: 'pcm8', 16: 'pcm16', 24: 'pcm24', 32: 'pcm32' } as const)[bits as 8]
    : format === FORMAT_FLOAT ? ({ 32: 'float32', 64: 'float64' } as const)[bits as 32] : undefined;
  if (format !== FORMAT_PCM && format !== FORMAT_FLOAT) throw new UserError(`${name}: WAV format code ${format} is not supported (only PCM and IEEE float; compressed WAV must be decoded first)`);
  if (encoding === undefined) throw new UserError(`${name}: ${format === FORMAT_PCM ? 'PCM' : 'float'} WAV with ${bits} bits per sample is not supported (PCM 8/16/24/32, float 32/64)`);
  check(channels >= 1 && channels <= MAX_WAV_CHANNELS, `${name}: WAV header claims ${channels} channels (1 to ${MAX_WAV_CHANNELS} supported)`);
  check(rate >= 1 && rate <= MAX_WAV_RATE, `${name}: WAV header claims a sample rate of ${rate} Hz (1 to ${MAX_WAV_RATE} supported)`);
  check(block === channels * READERS[encoding].bytes, `${name}: WAV header is inconsistent (block align ${block} for ${channels} channel(s) of ${bits} bits)`);
  return { rate, channels, encoding, block };
}

/** Parse WAV bytes; `name` labels error messages. Every size is checked before anything is allocated. */
export function parseWav(bytes: Uint8Array, name: string, opts: SizeLimit = {}): Wav {
  check(bytes.length > 0, `${name}: empty file`);
  check(bytes.length >= 12 && fourcc(bytes, 8) === 'WAVE' && ['RIFF', 'RIFX', 'RF64'].includes(fourcc(bytes, 0)), `${name}: not a WAV file (no RIFF/WAVE header)`);
  check(fourcc(bytes, 0) === 'RIFF', `${name}: ${fourcc(bytes, 0)} WAV files (big-endian or 64-bit) are not supported`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: ReturnType<typeof parseFmt> | null = null;
  let data: { at: number; size: number } | null = null;
  // Walk the chunks (id, uint32 size, payload padded to even length) to the end of the file; a
  // RIFF size field is often wrong in files written by streaming tools, so the file's length rules.
  for (let at = 12; at + 8 <= bytes.length;) {
    const id = fourcc(bytes, at), size = v.getUint32(at + 4, true), body = at + 8;
    if (id === 'fmt ') {
      check(body + size <= bytes.length, `${name}: truncated WAV file (fmt chunk runs past the end)`);
      fmt = parseFmt(bytes, v, body, size, name);
    } else if (id === 'data') {
      check(fmt !== null, `${name}: WAV data chunk comes before the fmt chunk`);
      check(body + size <= bytes.length, `${name}: truncated WAV file (data chunk claims ${size} bytes, ${bytes.length - body} present)`);
      data = { at: body, size };
      break;
    }
    at = body + size + (size & 1);
  }
  check(fmt !== null, `${name}: WAV file has no fmt chunk`);
  check(data !== null, `${name}: WAV file has no data chunk (truncated?)`);
  const frames = Math.floor(data.size / fmt.block);
  check(frames > 0, `${name}: WAV file holds no samples`);
  checkPixels(name, 'audio', [frames, fmt.channels], opts);
  const { bytes: width, read } = READERS[fmt.encoding];
  const samples = new Float32Array(frames * fmt.channels);
  for (let i = 0; i < samples.length; i++) samples[i] = read(v, data.at + i * width);
  if (fmt.encoding.startsWith('float')) {
    for (let i = 0; i < samples.length; i++) if (!Number.isFinite(samples[i])) throw new UserError(`${name}: float WAV holds a non-finite sample (${samples[i]}) at frame ${Math.floor(i / fmt.channels)}`);
  }
  return { rate: fmt.rate, channels: fmt.channels, frames, encoding: fmt.encoding, samples };
}

/** WAV bytes of these samples (interleaved, [-1, 1]; PCM clips to full scale), 16-bit PCM by default;
 *  `extensible` writes a WAVE_FORMAT_EXTENSIBLE header (what players expect above 2 channels or 16 bits). */
export function encodeWav(w: Pick<Wav, 'rate' | 'channels' | 'samples'>, o: { encoding?: WavEncoding; extensible?: boolean } = {}): Uint8Array {
  const encoding = o.encoding ?? 'pcm16';
  const width = READERS[encoding].bytes, float = encoding.startsWith('float');
  check(Number.isInteger(w.channels) && w.channels >= 1 && w.channels <= MAX_WAV_CHANNELS && w.samples.length % w.channels === 0, `WAV: ${w.samples.length} samples do not form frames of ${w.channels} channels`);
  check(Number.isInteger(w.rate) && w.rate >= 1 && w.rate <= MAX_WAV_RATE, `WAV: sample rate ${w.rate} out of range`);
  const fmtSize = o.extensible ? 40 : 16, dataSize = w.samples.length * width;
  const out = new Uint8Array(12 + 8 + fmtSize + 8 + dataSize + (dataSize & 1));
  const v = new DataView(out.buffer);
  const tag = (at: number, s: string): void => { for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i); };
  tag(0, 'RIFF'); v.setUint32(4, out.length - 8, true); tag(8, 'WAVE');
  tag(12, 'fmt '); v.setUint32(16, fmtSize, true);
  const code = float ? FORMAT_FLOAT : FORMAT_PCM;
  v.setUint16(20, o.extensible ? FORMAT_EXTENSIBLE : code, true);
  v.setUint16(22, w.channels, true); v.setUint32(24, w.rate, true);
  v.setUint32(28, w.rate * w.channels * width, true); v.setUint16(32, w.channels * width, true); v.setUint16(34, width * 8, true);
  if (o.extensible) {
    v.setUint16(36, 22, true); v.setUint16(38, width * 8, true); v.setUint32(40, 0, true); // cbSize, valid bits, no channel mask
    out[44] = code; out[45] = 0; out.set(GUID_TAIL, 46);
  }
  const d = 12 + 8 + fmtSize;
  tag(d, 'data'); v.setUint32(d + 4, dataSize, true);
  const full = { pcm8: 128, pcm16: 32768, pcm24: 8388608, pcm32: 2147483648, float32: 1, float64: 1 }[encoding];
  for (let i = 0; i < w.samples.length; i++) {
    const at = d + 8 + i * width, x = w.samples[i];
    if (encoding === 'float32') { v.setFloat32(at, x, true); continue; }
    if (encoding === 'float64') { v.setFloat64(at, x, true); continue; }
    const q = Math.max(-full, Math.min(full - 1, Math.round((Number.isFinite(x) ? x : 0) * full)));
    if (encoding === 'pcm8') v.setUint8(at, q + 128);
    else if (encoding === 'pcm16') v.setInt16(at, q, true);
    else if (encoding === 'pcm32') v.setInt32(at, q, true);
    else { v.setUint8(at, q & 0xff); v.setUint8(at + 1, (q >> 8) & 0xff); v.setInt8(at + 2, q >> 16); }
  }
  return out;
}

/** Silence (y = 0) on the pipeline's [0, 1] scale: what "zero-padding" a clip pads with. */
export const SILENCE = 0.5;

/** A clip as a 1-D signal [frames] with the file's channels, on the pipeline's [0, 1] scale: y -> (y + 1) / 2
 *  (so PSNR is the reference's PSNR of (y + 1) / 2 with data range 1, and range 'pm1' fits y itself). */
export function wavSignal(w: Wav): Signal {
  return makeSignal([w.frames], w.channels, w.samples.map((y) => (y + 1) / 2));
}

/** A 1-D signal back to WAV samples in [-1, 1]: v -> 2 v - 1. */
export function signalWav(s: Signal, rate: number): Pick<Wav, 'rate' | 'channels' | 'samples'> {
  check(s.dims.length === 1, `a WAV needs a 1-D signal, got ${s.dims.length}-D`);
  return { rate, channels: s.channels, samples: s.data.map((v) => 2 * v - 1) };
}

/** Mix every channel into one (the mean), as a 1-channel Wav. */
export function mixDown(w: Wav): Wav {
  if (w.channels === 1) return w;
  const out = new Float32Array(w.frames);
  for (let f = 0; f < w.frames; f++) {
    let s = 0;
    for (let c = 0; c < w.channels; c++) s += w.samples[f * w.channels + c];
    out[f] = s / w.channels;
  }
  return { ...w, channels: 1, samples: out };
}

/** Signal-to-noise ratio in dB of an estimate against a clip, both on the [0, 1] signal scale:
 *  10 log10(sum y^2 / sum (y - y_hat)^2) with y = 2 v - 1 (the scale cancels in the error term). */
export function snrDb(estimate: ArrayLike<number>, target: ArrayLike<number>): number {
  if (estimate.length !== target.length) throw new Error(`snr: ${estimate.length} values against ${target.length}`);
  let sig = 0, err = 0;
  for (let i = 0; i < target.length; i++) {
    sig += (2 * target[i] - 1) ** 2;
    err += (2 * (estimate[i] - target[i])) ** 2;
  }
  return 10 * Math.log10(sig / err);
}
