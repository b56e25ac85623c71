// PSNR-vs-iteration chart on a 2D canvas: one line per run (prior, SIREN), axes with dB and iteration
// ticks, redrawn at most once per animation frame however fast steps arrive. A fit on random batches
// (the fast recipe) plots its batches' estimate as the line and its whole-signal evaluations as dots.

export interface Series {
  label: string;
  color: string;
  points: { it: number; psnr: number }[];
  /** Whole-signal PSNRs (StepEvent.whole) where they differ from the line's, drawn as dots. */
  whole: { it: number; psnr: number }[];
}

export class PsnrChart {
  private series = new Map<string, Series>();
  private maxIt = 100;
  private pending = false;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.draw();
  }

  reset(maxIt: number): void {
    this.series.clear();
    this.maxIt = Math.max(1, maxIt);
    this.schedule();
  }

  add(key: string, label: string, color: string, it: number, psnr: number): void {
    const s = this.get(key, label, color);
    if (Number.isFinite(psnr)) s.points.push({ it, psnr });
    this.schedule();
  }

  /** A whole-signal measurement after step `it`, as a dot. */
  addWhole(key: string, label: string, color: string, it: number, psnr: number): void {
    const s = this.get(key, label, color);
    if (Number.isFinite(psnr)) s.whole.push({ it, psnr });
    this.schedule();
  }

  private get(key: string, label: string, color: string): Series {
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { label, color, points: [], whole: [] }));
    return s;
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  draw(): void {
    const c = this.canvas,
      ctx = c.getContext('2d');
    if (!ctx) return;
    const W = c.width,
      H = c.height,
      L = 44,
      R = 10,
      T = 24,
      Bm = 30;
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, W, H);
    const all = [...this.series.values()].flatMap((s) => [...s.points, ...s.whole].map((p) => p.psnr));
    const lo = all.length ? Math.floor(Math.min(...all) / 5) * 5 : 0;
    const hi = all.length ? Math.max(lo + 5, Math.ceil(Math.max(...all) / 5) * 5) : 40;
    const x = (it: number) => L + ((W - L - R) * it) / this.maxIt;
    const y = (db: number) => T + ((H - T - Bm) * (hi - db)) / (hi - lo);
    ctx.strokeStyle = '#ddd';
    ctx.fillStyle = '#444';
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'right';
    const step = hi - lo > 30 ? 10 : 5;
    for (let db = lo; db <= hi; db += step) {
      ctx.beginPath();
      ctx.moveTo(L, y(db));
      ctx.lineTo(W - R, y(db));
      ctx.stroke();
      ctx.fillText(`${db}`, L - 4, y(db) + 4);
    }
    ctx.textAlign = 'center';
    for (let k = 0; k <= 4; k++)
      ctx.fillText(`${Math.round((this.maxIt * k) / 4)}`, x((this.maxIt * k) / 4), H - Bm + 14);
    ctx.fillText('iteration', (L + W - R) / 2, H - 4);
    ctx.save();
    ctx.translate(11, (T + H - Bm) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText('PSNR (dB)', 0, 0);
    ctx.restore();
    let lx = L + 6;
    for (const s of this.series.values()) {
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 2;
      ctx.beginPath();
      s.points.forEach((p, i) => (i === 0 ? ctx.moveTo(x(p.it), y(p.psnr)) : ctx.lineTo(x(p.it), y(p.psnr))));
      ctx.stroke();
      ctx.fillStyle = s.color;
      for (const p of s.whole) {
        ctx.beginPath();
        ctx.arc(x(p.it), y(p.psnr), 3, 0, 2 * Math.PI);
        ctx.fill();
      }
      ctx.textAlign = 'left';
      const last = s.points[s.points.length - 1];
      const text = `${s.label}${last ? `: ${last.psnr.toFixed(2)} dB` : ''}`;
      ctx.fillRect(lx, 8, 10, 10);
      ctx.fillStyle = '#222';
      ctx.fillText(text, lx + 14, 17);
      lx += ctx.measureText(text).width + 30;
    }
    ctx.lineWidth = 1;
  }
}
