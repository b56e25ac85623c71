// Waveform plots of clips (target, reconstruction, their difference) as SVG and as a raster Image for
// PNG: time in seconds across, amplitude in [-1, 1] up. A clip longer than the plot is wide is drawn
// as its min/max envelope per pixel column (what audio editors show), so the file stays small.
import { makeImage, type Image } from './pixels.ts';

export interface Trace { name: string; samples: ArrayLike<number>; color: string }

/** Default colours: target blue, reconstruction red, difference green (matplotlib's tab10 order). */
export const TRACE_COLORS = ['#1f77b4', '#d62728', '#2ca02c'];

interface Box { W: number; H: number; L: number; R: number; T: number; B: number }
const BOX: Box = { W: 900, H: 330, L: 50, R: 20, T: 52, B: 40 };

/** Per plot column: min and max of the samples it covers. */
function envelope(x: ArrayLike<number>, cols: number): { lo: Float32Array; hi: Float32Array } {
  const lo = new Float32Array(cols).fill(Infinity), hi = new Float32Array(cols).fill(-Infinity);
  for (let i = 0; i < x.length; i++) {
    const c = Math.min(cols - 1, Math.floor((i * cols) / x.length));
    if (x[i] < lo[c]) lo[c] = x[i];
    if (x[i] > hi[c]) hi[c] = x[i];
  }
  for (let c = 1; c < cols; c++) if (!Number.isFinite(lo[c])) { lo[c] = lo[c - 1]; hi[c] = hi[c - 1]; }
  return { lo, hi };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function waveformSvg(traces: readonly Trace[], o: { rate: number; title: string }): string {
  const { W, H, L, R, T, B } = BOX, cols = W - L - R;
  const n = Math.max(...traces.map((t) => t.samples.length));
  const sy = (y: number): number => T + ((1 - Math.max(-1, Math.min(1, y))) / 2) * (H - T - B);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`,
    `<line x1="${L}" y1="${sy(0)}" x2="${W - R}" y2="${sy(0)}" stroke="#ccc"/>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    ...[-1, 0, 1].map((v) => `<text x="${L - 6}" y="${sy(v) + 4}" text-anchor="end">${v}</text>`),
    `<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">time (s), ${n} samples at ${o.rate} Hz</text>`,
  ];
  const seconds = n / o.rate, step = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60].find((s) => seconds / s <= 10) ?? 60;
  for (let t = 0; t <= seconds + 1e-9; t += step) {
    const x = L + (t / seconds) * cols;
    parts.push(`<line x1="${x}" y1="${H - B}" x2="${x}" y2="${H - B + 5}" stroke="black"/><text x="${x}" y="${H - B + 18}" text-anchor="middle">${+t.toFixed(2)}</text>`);
  }
  traces.forEach((t, k) => {
    let pts: string;
    if (t.samples.length <= 2 * cols) {
      pts = Array.from({ length: t.samples.length }, (_, i) => `${(L + (i / n) * cols).toFixed(1)},${sy(t.samples[i]).toFixed(1)}`).join(' ');
    } else {
      const { lo, hi } = envelope(t.samples, Math.round((cols * t.samples.length) / n));
      pts = Array.from(lo, (_, c) => `${L + c + 0.5},${sy(lo[c]).toFixed(1)} ${L + c + 0.5},${sy(hi[c]).toFixed(1)}`).join(' ');
    }
    parts.push(`<polyline fill="none" stroke="${t.color}" stroke-width="1" stroke-opacity="0.85" points="${pts}"/>`);
    parts.push(`<rect x="${L + 10 + 170 * k}" y="${T - 17}" width="12" height="3" fill="${t.color}"/><text x="${L + 28 + 170 * k}" y="${T - 12}">${esc(t.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** The same plot as an RGB raster (no text): one band per trace, stacked top to bottom, each trace
 *  drawn as vertical min-max strokes per column over a mid line. */
export function waveformImage(traces: readonly Trace[], o: { width?: number; band?: number } = {}): Image {
  const W = o.width ?? 900, band = o.band ?? 120, H = band * traces.length;
  const img = makeImage(W, H, 3);
  img.data.fill(1);
  const rgb = (hex: string): number[] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const put = (x: number, y: number, c: number[]): void => { for (let k = 0; k < 3; k++) img.data[(y * W + x) * 3 + k] = c[k]; };
  traces.forEach((t, k) => {
    const top = k * band, sy = (v: number): number => top + Math.round(((1 - Math.max(-1, Math.min(1, v))) / 2) * (band - 1));
    for (let x = 0; x < W; x++) put(x, sy(0), [0.8, 0.8, 0.8]);
    const { lo, hi } = envelope(t.samples, W), c = rgb(t.color);
    for (let x = 0; x < W; x++) for (let y = sy(hi[x]); y <= sy(lo[x]); y++) put(x, y, c);
  });
  return img;
}
