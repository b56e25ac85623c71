// The CLI's --prior and --public-key flags: a prior folder or shipped name, loaded by strainer/node's
// loadPrior under the one trust policy (src/export/prior.ts: a pinned key must verify; a shipped prior
// is checked against the project key; otherwise one note on stderr that nothing vouches for it).
import { existsSync, readFileSync } from 'node:fs';
import { loadPrior } from '../node/api.ts';
import type { BundledPrior } from '../export/prior.ts';
import { UserError } from '../util/errors.ts';

export const PRIOR_FLAGS = {
  prior: [
    '--prior <dir>',
    'start from a STRAINER prior: a prior folder, or a shipped prior by name (mri-64, mri-178, lfw-25, speech-10)',
  ],
  publicKey: [
    '--public-key <file>',
    "refuse the prior unless it is signed by this key (PEM, as strainer keygen writes NAME.pub); shipped priors are always checked against the project's key",
  ],
} as const;

/** A key file's text, or a UserError naming the flag. */
export function readKeyFile(path: string, flag: string): string {
  if (!existsSync(path)) throw new UserError(`${flag} ${path}: no such file`);
  return readFileSync(path, 'utf8');
}

/** The prior named by --prior, with --public-key pinned when given. */
export async function cliPrior(arg: string, publicKeyFile?: string): Promise<BundledPrior> {
  return loadPrior(arg, {
    publicKey: publicKeyFile === undefined ? undefined : readKeyFile(publicKeyFile, '--public-key'),
    onNote: (line) => process.stderr.write(`strainer: note: ${line}\n`),
  });
}
