// Size limits that every decoder checks from a file's header, before it decodes or allocates anything:
// one ceiling on the pixels of an image, the voxels of a volume, the elements of an array and the
// samples of a WAV clip (frames x channels), so a small file whose header lies (a 1 KB PNG claiming
// 60000x60000) is refused at once. Raise it with the
// environment variable STRAINER_MAX_PIXELS or a decoder's `maxPixels` option. Platform-neutral: the
// environment is read only where a `process` object exists (Node), never in the browser.
import { UserError } from '../util/errors.ts';

/** Default ceiling: 1e8 pixels, the 100 megapixels of jpeg-js's own `maxResolutionInMP` default (jpeg-js README). */
export const MAX_PIXELS = 1e8;
export const MAX_PIXELS_ENV = 'STRAINER_MAX_PIXELS';

/** Deflate's largest possible expansion: 1032 output bytes per input byte (zlib FAQ, "What's the maximum compression ratio?"). */
export const DEFLATE_MAX_RATIO = 1032;

/** Decoder option: the pixel/voxel/element ceiling for this call (default: STRAINER_MAX_PIXELS, else MAX_PIXELS). */
export interface SizeLimit {
  maxPixels?: number;
}

// Typed locally, so this file compiles with no Node declarations (tsconfig.core.json).
function readEnv(): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[MAX_PIXELS_ENV];
}

/** The ceiling in force: the option, else the environment variable, else MAX_PIXELS. */
export function maxPixels(opts: SizeLimit = {}): number {
  if (opts.maxPixels !== undefined) {
    if (!(opts.maxPixels > 0)) throw new UserError(`maxPixels must be a positive number, got ${opts.maxPixels}`);
    return opts.maxPixels;
  }
  const env = readEnv();
  if (env === undefined || env.trim() === '') return MAX_PIXELS;
  const v = Number(env);
  if (!(v > 0)) throw new UserError(`${MAX_PIXELS_ENV} must be a positive number, got '${env}'`);
  return v;
}

/** 3.6e9-style for large counts, plain digits below a million. */
export function formatCount(n: number): string {
  if (n < 1e6) return String(n);
  return n.toExponential(1).replace('.0e', 'e').replace('e+', 'e');
}

const UNITS = { image: 'pixels', volume: 'voxels', array: 'elements', audio: 'samples' } as const;

/**
 * Refuse `dims` (from a header) when their product exceeds the ceiling, e.g.
 * "x.png: image is 60000x60000 (3.6e9 pixels), above the limit of 1e8 (set STRAINER_MAX_PIXELS to raise it)".
 */
export function checkPixels(name: string, what: keyof typeof UNITS, dims: readonly number[], opts: SizeLimit = {}): void {
  const limit = maxPixels(opts);
  const n = dims.reduce((a, b) => a * b, 1);
  if (n <= limit) return;
  const shown = what === 'array' ? `of shape (${dims.join(', ')})` : what === 'audio' ? `${dims[0]} frames of ${dims[1] ?? 1} channel(s)` : dims.join('x');
  throw new UserError(`${name}: ${what} is ${shown} (${formatCount(n)} ${UNITS[what]}), above the limit of ${formatCount(limit)} (set ${MAX_PIXELS_ENV} to raise it)`);
}
