// The one place Node code chooses a runtime: onnxruntime-node by default, the reference interpreter
// on request (slow; for checking). The browser chooses in src/runtime/ort-web.ts.
import type { Backend } from '../runtime/session.ts';
import { ortNodeBackend } from '../runtime/ort-node.ts';
import { referenceBackend } from '../runtime/reference.ts';

export const NODE_BACKENDS = ['ort', 'reference'] as const;
export type NodeBackendName = (typeof NODE_BACKENDS)[number];

export function nodeBackend(name: NodeBackendName = 'ort', threads?: number): Backend {
  switch (name) {
    case 'ort': return ortNodeBackend(threads === undefined ? {} : { threads });
    case 'reference': return referenceBackend;
    default: return name satisfies never;
  }
}
