// Central finite differences on the reference interpreter (float64), shared by the gradient tests:
// compares grad(loss, inputs) with (f(x+h) - f(x-h)) / 2h for every entry of every fed input and
// reports the first mismatches and the max relative error (STYLE.md practice 11).
import { grad } from '../../src/graph/autodiff.ts';
import { evaluate } from '../../src/graph/interp.ts';
import type { Node } from '../../src/graph/ir.ts';
import type { Tensor } from '../../src/graph/tensor.ts';

export function finiteDiffCheck(
  loss: Node,
  inputs: readonly Node<'input'>[],
  feeds: Map<string, Tensor>,
  h = 1e-6,
): { maxErr: number; report: string } {
  const analytic = evaluate(grad(loss, inputs), feeds);
  let maxErr = 0;
  const bad: string[] = [];
  inputs.forEach((inp, i) => {
    const name = inp.params.name;
    const x = feeds.get(name)!;
    for (let j = 0; j < x.data.length; j++) {
      const orig = x.data[j];
      x.data[j] = orig + h;
      const fp = evaluate([loss], feeds)[0].data[0];
      x.data[j] = orig - h;
      const fm = evaluate([loss], feeds)[0].data[0];
      x.data[j] = orig;
      const fd = (fp - fm) / (2 * h);
      const an = analytic[i].data[j];
      const err = Math.abs(fd - an) / Math.max(1, Math.abs(fd));
      if (err > maxErr) maxErr = err;
      if (err > 1e-6 && bad.length < 5) bad.push(`${name}[${j}]: analytic ${an} vs finite-diff ${fd}`);
    }
  });
  return { maxErr, report: bad.join('\n') };
}
