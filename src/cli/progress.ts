// Progress reporting for long loops: a cli-progress bar (iteration, loss, PSNR, it/s, ETA) when
// stderr is a terminal; otherwise a plain line every ~10% so logs stay readable. Never on stdout,
// whose last line is reserved for --json.
import cliProgress from 'cli-progress';

export interface Progress {
  update(it: number, loss: number, psnr: number): void;
  stop(): void;
}

export function progress(label: string, total: number, quiet = false): Progress {
  const t0 = performance.now();
  const rate = (it: number): number => (it + 1) / ((performance.now() - t0) / 1000);
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
      update: (it, loss, psnr) =>
        bar.update(it + 1, { loss: loss.toExponential(3), psnr: psnr.toFixed(2), ips: rate(it).toFixed(2) }),
      stop: () => bar.stop(),
    };
  }
  const every = Math.max(1, Math.round(total / 10));
  return {
    update: (it, loss, psnr) => {
      if ((it + 1) % every === 0 || it + 1 === total) {
        const r = rate(it);
        process.stderr.write(
          `${label} ${it + 1}/${total} loss ${loss.toExponential(3)} PSNR ${psnr.toFixed(2)} dB ${r.toFixed(2)} it/s ETA ${((total - it - 1) / r).toFixed(0)}s\n`,
        );
      }
    },
    stop: () => {},
  };
}
