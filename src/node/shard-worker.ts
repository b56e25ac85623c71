// The worker thread behind one shard of a ShardedTrainer (sharded.ts): it holds one onnxruntime-node
// session of a shard's gradient program and runs it on request. onnxruntime-node's run() blocks its
// thread (REFERENCE.md), so shards in separate threads run truly in parallel. Every request gets
// exactly one reply, in order; a failure is a reply carrying one line, not a crash.
import { parentPort } from 'node:worker_threads';
import { ortNodeBackend, ortMessage } from '../runtime/ort-node.ts';
import type { Session } from '../runtime/session.ts';
import type { ShardReply, ShardRequest, WireTensor } from './sharded.ts';

if (!parentPort) throw new Error('shard-worker.ts runs as a worker thread (started by ShardedTrainer)');
const port = parentPort;

let session: Session | null = null;
let batch: Record<string, unknown> = {};

// Replies are copied (structured clone), never transferred: the outputs' buffers belong to
// onnxruntime-node's tensors, and moving one away made the process abort when the worker later ended
// ("terminate called after throwing an instance of 'Napi::Error'", measured). A copy of the
// gradients is ~1.3 MB a step at width 256.
async function handle(req: ShardRequest): Promise<ShardReply> {
  switch (req.type) {
    case 'load':
      session = await ortNodeBackend({ threads: req.threads }).load(req.model);
      return { type: 'ok' };
    case 'batch': {
      const s = need(session);
      batch = Object.fromEntries(Object.entries(req.inputs).map(([k, t]) => [k, s.upload(t)]));
      return { type: 'ok' };
    }
    case 'run': {
      const s = need(session);
      const feeds: Record<string, unknown> = { ...batch };
      for (const [k, t] of Object.entries(req.params)) feeds[k] = s.upload(t);
      const out = await s.run(feeds);
      const outputs: Record<string, WireTensor> = {};
      for (const k of s.outputNames) {
        const t = await s.download(out[k]);
        outputs[k] = { shape: [...t.shape], data: t.data };
      }
      return { type: 'outputs', outputs };
    }
    default:
      return req satisfies never;
  }
}

function need(s: Session | null): Session {
  if (!s) throw new Error('no model loaded');
  return s;
}

// Requests are handled one at a time, in arrival order (a chain of promises), so replies keep it too.
let chain: Promise<void> = Promise.resolve();
port.on('message', (req: ShardRequest) => {
  chain = chain.then(async () => {
    try {
      port.postMessage(await handle(req));
    } catch (e) {
      port.postMessage({ type: 'error', message: ortMessage(e) } satisfies ShardReply);
    }
  });
});
