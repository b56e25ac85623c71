// The CLI's side of choosing a runtime: the `--ep` flag of fit, pretrain, eval, restore and demo,
// resolved by the one chooser (src/node/backend.ts) before any work, and announced on stderr as one
// line saying which runtime runs and why.
import { chooseBackend, describeChoice, EP_CHOICES, type ChosenBackend, type Ep, type NodeBackendName } from '../node/backend.ts';
import { choiceArg } from './args.ts';

export const EP_FLAG = ['--ep <ep>', `onnxruntime-node execution provider: ${EP_CHOICES.join(', ')} (default $STRAINER_EP, else auto: webgpu on a hardware adapter, else cpu)`, choiceArg('--ep', EP_CHOICES)] as const;

export async function cliBackend(o: { ep?: Ep; threads?: number; backend?: NodeBackendName }): Promise<ChosenBackend> {
  const chosen = await chooseBackend({ ...(o.ep ? { ep: o.ep } : {}), ...(o.threads ? { threads: o.threads } : {}), ...(o.backend ? { engine: o.backend } : {}) });
  process.stderr.write(describeChoice(chosen) + '\n');
  return chosen;
}
