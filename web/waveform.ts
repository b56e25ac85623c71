// The demo page's waveform view of a clip on a 2D canvas: per pixel column the min..max envelope of the
// samples it covers (so a whole clip shows at any width), the target in grey under a reconstruction in
// its run's colour, a zero line, and the clip's duration.
import { clipChannels, type Signal } from '../src/web/index.ts';

/** Per column c of `width`, the [min, max] of channel 0 over the samples that column covers. */
function envelope(samples: Float32Array, width: number): Float32Array {
  const out = new Float32Array(2 * width),
    n = samples.length;
  for (let c = 0; c < width; c++) {
    const a = Math.floor((c * n) / width),
      b = Math.max(a + 1, Math.floor(((c + 1) * n) / width));
    let lo = Infinity,
      hi = -Infinity;
    for (let i = a; i < Math.min(b, n); i++) {
      lo = Math.min(lo, samples[i]);
      hi = Math.max(hi, samples[i]);
    }
    out[2 * c] = lo === Infinity ? 0 : lo;
    out[2 * c + 1] = hi === -Infinity ? 0 : hi;
  }
  return out;
}

/** Draws `target` (grey) and, if given, `recon` over it in `color`; `rate` labels the time axis. */
export function drawWaveform(
  canvas: HTMLCanvasElement,
  target: Signal,
  rate: number,
  recon?: { signal: Signal; color: string },
): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const W = canvas.width,
    H = canvas.height,
    mid = H / 2,
    half = H / 2 - 6;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  ctx.strokeStyle = '#ddd';
  ctx.beginPath();
  ctx.moveTo(0, mid);
  ctx.lineTo(W, mid);
  ctx.stroke();
  const trace = (s: Signal, color: string): void => {
    const env = envelope(clipChannels(s)[0], W);
    ctx.fillStyle = color;
    for (let c = 0; c < W; c++) {
      const top = mid - env[2 * c + 1] * half,
        bottom = mid - env[2 * c] * half;
      ctx.fillRect(c, top, 1, Math.max(1, bottom - top));
    }
  };
  trace(target, recon ? '#c8c8c8' : '#555');
  if (recon) {
    ctx.globalAlpha = 0.8;
    trace(recon.signal, recon.color);
    ctx.globalAlpha = 1;
  }
  ctx.fillStyle = '#444';
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'right';
  ctx.fillText(`${(target.dims[0] / rate).toFixed(2)} s`, W - 4, H - 4);
}
