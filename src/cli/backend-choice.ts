// The CLI's side of choosing a runtime: the `--ep`, `--backend` and `--threads` flags of fit, pretrain,
// eval, restore, render and demo,
// resolved by the one chooser (src/node/backend.ts) before any work, so a provider that cannot start
// is the command's one error line; which runtime runs and why is announced on stderr when it first
// loads a model (after the command's own input checks, which keep their one-line errors).
import type { Backend } from '../runtime/session.ts';
import {
  chooseBackend,
  describeChoice,
  EP_CHOICES,
  type ChosenBackend,
  type Ep,
  type NodeBackendName,
  NODE_BACKENDS,
} from '../node/backend.ts';
import { choiceArg, settingArg } from './args.ts';

export const EP_FLAG = [
  '--ep <ep>',
  `onnxruntime-node execution provider: ${EP_CHOICES.join(', ')} (default $STRAINER_EP, else auto: webgpu on a hardware adapter, else cpu)`,
  choiceArg('--ep', EP_CHOICES),
] as const;

export const BACKEND_FLAG = [
  '--backend <b>',
  'runtime: ort (onnxruntime-node) or reference (slow interpreter)',
  choiceArg('--backend', NODE_BACKENDS),
  'ort',
] as const;

export const THREADS_FLAG = [
  '--threads <n>',
  'onnxruntime intra-op threads (default: all cores)',
  settingArg('--threads', 'threads'),
] as const;

export async function cliBackend(o: {
  ep?: Ep;
  threads?: number;
  backend?: NodeBackendName;
}): Promise<ChosenBackend & { announce: () => void }> {
  const chosen = await chooseBackend({
    ep: o.ep,
    threads: o.threads,
    engine: o.backend,
  });
  let announced = false;
  /** Says which runtime runs, once: on the first model load, or earlier for fits run on worker threads. */
  const announce = (): void => {
    if (!announced) process.stderr.write(describeChoice(chosen) + '\n');
    announced = true;
  };
  const backend: Backend = {
    name: chosen.backend.name,
    load: (model, lo) => {
      announce();
      return chosen.backend.load(model, lo);
    },
  };
  return { ...chosen, backend, announce };
}
