// A folder of WAV clips as a pretraining data source: every .wav file in natural name order (0, 1, 2,
// ..., 9, 10: numbered prompts stay in their numbers' order), each a 1-D signal on the pipeline's [0, 1]
// scale (./wav.ts), all of one sample rate and one channel count (or mixed down to mono), with every
// file's SHA-256 so a prior records exactly what it saw. Mixed rates or channel counts are one line.
// Node-only (through ./files.ts).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.ts';
import { sha256Hex } from '../util/sha256.ts';
import { readDataFile } from './files.ts';
import { checkRange } from '../data/npy.ts';
import { mixDown, parseWav, wavSignal } from '../data/wav.ts';
import type { Signal } from '../data/signal.ts';

export const WAV_EXT = /\.wav$/i;

export interface ClipSource {
  clips: { id: string; signal: Signal }[];
  files: { path: string; sha256: string }[];
  /** Samples per second, the same for every clip. */
  rate: number;
  description: string;
}

/** The .wav files of a folder in natural order ('2.wav' before '10.wav'). */
export function clipNames(dir: string): string[] {
  return readdirSync(dir).filter((n) => WAV_EXT.test(n) && statSync(join(dir, n)).isFile())
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** "8000 Hz: 0.wav, 1.wav, ...; 16000 Hz: x.wav" for a refusal naming which files differ. */
function groups(by: Map<number, string[]>, unit: string): string {
  return [...by].map(([k, names]) => `${k}${unit}: ${names.slice(0, 3).join(', ')}${names.length > 3 ? `, ... (${names.length})` : ''}`).join('; ');
}

/** The clips at positions [range) of the folder's natural order; `channels: 1` mixes each to mono. */
export async function loadClipFolder(dir: string, o: { channels?: 'auto' | 1; range?: [number, number] } = {}): Promise<ClipSource> {
  const names = clipNames(dir);
  if (names.length === 0) throw new UserError(`${dir}: folder holds no WAV clips`);
  const [start, end] = o.range ?? [0, names.length];
  checkRange(start, end, names.length, `${dir}: clip`);
  const clips: ClipSource['clips'] = [], files: ClipSource['files'] = [];
  const rates = new Map<number, string[]>(), channels = new Map<number, string[]>();
  for (const name of names.slice(start, end)) {
    const path = join(dir, name);
    const bytes = readDataFile(path);
    files.push({ path, sha256: await sha256Hex(bytes) });
    const w = parseWav(bytes, path);
    const clip = o.channels === 1 ? mixDown(w) : w;
    rates.set(w.rate, [...(rates.get(w.rate) ?? []), name]);
    channels.set(clip.channels, [...(channels.get(clip.channels) ?? []), name]);
    clips.push({ id: name.replace(WAV_EXT, ''), signal: wavSignal(clip) });
  }
  if (rates.size > 1) throw new UserError(`${dir}: clips at more than one sample rate (${groups(rates, ' Hz')}); a prior is trained at one rate: resample them to one`);
  if (channels.size > 1) throw new UserError(`${dir}: clips with different channel counts (${groups(channels, ' channel(s)')}); pass --channels 1 to mix them down to mono`);
  const rate = [...rates.keys()][0], ch = [...channels.keys()][0];
  const lengths = clips.map((c) => c.signal.dims[0]);
  return {
    clips, files, rate,
    description: `folder ${dir}: ${clips.length} of ${names.length} WAV clips, ${rate} Hz, ${ch === 1 ? 'mono' : `${ch} channels`}${o.channels === 1 ? ' (mixed down)' : ''}, ${Math.min(...lengths)}-${Math.max(...lengths)} samples`,
  };
}
