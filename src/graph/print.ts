// Pretty-printer: one line per node in topological order, e.g. `%7 = sin(%6) : [64,256]`. Node ids are
// renumbered from 0 so the text is stable; tests snapshot it so autodiff changes show up as diffs.
import { topoSort, shapeStr, type Node, type Program } from './ir.ts';

function paramStr(node: Node): string {
  switch (node.op) {
    case 'input':
      return `'${(node as Node<'input'>).params.name}'`;
    case 'const': {
      const p = (node as Node<'const'>).params;
      if (node.name !== undefined) return `'${node.name}'`;
      return p.value.length <= 4
        ? `${[...p.value].map((v) => +v.toPrecision(6)).join(',')}`
        : `${p.value.length} values`;
    }
    default: {
      const entries = Object.entries(node.params as Record<string, unknown>);
      return entries.length === 0
        ? ''
        : entries.map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v}]` : String(v)}`).join(' ');
    }
  }
}

export function printProgram(prog: Program): string {
  const outs = Object.entries(prog.outputs);
  const order = topoSort(outs.map(([, n]) => n));
  const local = new Map<number, string>();
  const lines = [`program ${prog.name}`];
  for (const n of order) {
    const id = `%${local.size}`;
    local.set(n.id, id);
    const args = n.inputs.map((i) => local.get(i.id)).join(', ');
    const ps = paramStr(n);
    const call = n.inputs.length > 0 ? `${n.op}(${args}${ps ? `; ${ps}` : ''})` : `${n.op} ${ps}`;
    lines.push(`  ${id} = ${call} : ${shapeStr(n.shape)}`);
  }
  for (const [name, n] of outs) lines.push(`  out '${name}' = ${local.get(n.id)}`);
  return lines.join('\n');
}
