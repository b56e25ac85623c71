// Progress reporting for long loops: a cli-progress bar (iteration, loss, PSNR, it/s, ETA) when
// stderr is a terminal; otherwise a plain line every ~10% so logs stay readable. Never on stdout,
// whose last line is reserved for --json. `update` takes the one step event of every loop.
import cliProgress from 'cli-progress';
import type { StepEvent } from '../train/events.ts';

export interface Progress {
  /** An OnStep callback: pass it as `onStep` directly. */
  update: (e: StepEvent) => void;
  stop(): void;
}

export function progress(label: string, total: number, quiet = false): Progress {
  const rate = (e: StepEvent): number => (e.it + 1) / Math.max(e.seconds, 1e-9);
  if (quiet) return { update: () => {}, stop: () => {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${label} {bar} {value}/{total} | loss {loss} | PSNR {psnr} dB | {ips} it/s | ETA {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { loss: '-', psnr: '-', ips: '-' });
    return {
      update: (e) =>
        bar.update(e.it + 1, { loss: e.loss.toExponential(3), psnr: e.psnr.toFixed(2), ips: rate(e).toFixed(2) }),
      stop: () => bar.stop(),
    };
  }
  const every = Math.max(1, Math.round(total / 10));
  return {
    update: (e) => {
      if ((e.it + 1) % every === 0 || e.it + 1 === total) {
        const r = rate(e);
        process.stderr.write(
          `${label} ${e.it + 1}/${total} loss ${e.loss.toExponential(3)} PSNR ${e.psnr.toFixed(2)} dB ${r.toFixed(2)} it/s ETA ${((total - e.it - 1) / r).toFixed(0)}s\n`,
        );
      }
    },
    stop: () => {},
  };
}
