// CPU time per thread of this process (Linux schedstat), for benchmarks on a shared machine: the
// busiest thread's CPU time over a run is about its wall time on an idle machine and is far less
// disturbed by other work. The same measure as scripts/bench.ts's `busiest` column.
import { readFileSync, readdirSync } from 'node:fs';

/** CPU ns each thread of this process (worker threads included) has run so far; empty off Linux. */
export function threadCpu(): Map<string, number> {
  const m = new Map<string, number>();
  try {
    for (const t of readdirSync('/proc/self/task')) {
      try {
        m.set(t, Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]));
      } catch {
        /* thread ended */
      }
    }
  } catch {
    /* not Linux */
  }
  return m;
}

/** The busiest thread's CPU ms between two snapshots. */
export function busiest(a: Map<string, number>, b: Map<string, number>): number {
  let max = 0;
  for (const [t, ns] of b) max = Math.max(max, ns - (a.get(t) ?? 0));
  return max / 1e6;
}
