// `strainer verify BUNDLE --public-key PUB`: checks manifest.sig against the pinned key and every file
// against manifest.json's sha256. (Loading a prior to fit from it follows the same policy, in
// src/export/prior.ts loadPrior; the CLI's --prior flag is ./prior.ts.)
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadBundle } from '../export/bundle.ts';
import { dirSource } from '../node/fs.ts';
import { readKeyFile } from './prior.ts';
import { UserError } from '../util/errors.ts';

export interface VerifyCliOptions {
  publicKey: string;
  json?: boolean;
}

export async function runVerify(dir: string, o: VerifyCliOptions): Promise<void> {
  if (!existsSync(join(dir, 'manifest.json'))) throw new UserError(`${dir}: not a bundle folder (no manifest.json)`);
  const b = await loadBundle(dirSource(dir), { publicKey: readKeyFile(o.publicKey, '--public-key') });
  const m = b.manifest;
  const keyId = b.signature.state === 'verified' ? b.signature.keyId : '?';
  const files = Object.keys(m.files);
  if (o.json) {
    process.stdout.write(
      JSON.stringify({
        bundle: resolve(dir),
        kind: m.kind,
        name: m.name,
        release: m.release ?? null,
        signature: 'verified',
        key_id: keyId,
        files,
      }) + '\n',
    );
  } else {
    process.stdout.write(
      `${dir}: ${m.kind} '${m.name}'${m.release !== undefined ? ` release ${m.release}` : ''}: signature by key ${keyId} verified; ${files.length} files match manifest.json (${files.join(', ')})\n`,
    );
  }
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description("check a bundle's signature against a public key, and every file against its manifest")
    .argument('<bundle>', 'bundle folder (holding manifest.json and manifest.sig)')
    .requiredOption('--public-key <file>', "the signer's public key (PEM, as strainer keygen writes NAME.pub)")
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: VerifyCliOptions) => runVerify(dir, opts));
}
