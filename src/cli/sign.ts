// `strainer sign BUNDLE --key KEY [--release N]`: checks every file of the bundle against its manifest,
// optionally stamps the manifest with a release number (the only change to manifest.json), then writes
// manifest.sig: an Ed25519 signature over manifest.json's exact bytes (src/export/signature.ts).
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { intArg } from './args.ts';
import { readKeyFile } from './prior.ts';
import { loadBundle } from '../export/bundle.ts';
import { signManifest, SIGNATURE_FILE } from '../export/signature.ts';
import { dirSource, writeFileAtomic } from '../node/fs.ts';
import { UserError } from '../util/errors.ts';

export interface SignCliOptions {
  key: string;
  release?: number;
  force?: boolean;
}

/** The manifest text with `release` set right after `name`, in writeBundleDir's layout. */
export function withRelease(text: string, release: number): string {
  const m = JSON.parse(text) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    if (k === 'release') continue;
    out[k] = v;
    if (k === 'name') out.release = release;
  }
  if (!('release' in out)) out.release = release;
  return JSON.stringify(out, null, 2) + '\n';
}

export async function runSign(dir: string, o: SignCliOptions): Promise<void> {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new UserError(`${dir}: not a bundle folder (no manifest.json)`);
  const sigPath = join(dir, SIGNATURE_FILE);
  if (existsSync(sigPath) && !o.force) throw new UserError(`${sigPath} already exists (pass --force to sign again)`);
  const privatePem = readKeyFile(o.key, '--key');
  const b = await loadBundle(dirSource(dir)); // never vouch for files that already fail their hashes
  const current = b.manifest.release;
  if (o.release !== undefined && current !== undefined && o.release < current && !o.force) {
    throw new UserError(
      `${dir}: --release ${o.release} is below the manifest's release ${current} (clients that saw ${current} refuse it; pass --force to go back anyway)`,
    );
  }
  const text = readFileSync(manifestPath, 'utf8');
  const manifest = o.release !== undefined && o.release !== current ? withRelease(text, o.release) : text;
  const bytes = new TextEncoder().encode(manifest);
  const sig = await signManifest(bytes, privatePem, `--key ${o.key}`);
  if (manifest !== text) writeFileAtomic(manifestPath, bytes);
  writeFileAtomic(sigPath, sig.bytes);
  const release = o.release ?? current;
  process.stdout.write(
    `signed ${manifestPath}${release !== undefined ? ` (release ${release})` : ''} with key ${sig.keyId}: wrote ${sigPath}\n`,
  );
}

export function registerSign(program: Command): void {
  program
    .command('sign')
    .description('sign a bundle: an Ed25519 signature over manifest.json (which pins every file by sha256)')
    .argument('<bundle>', 'bundle folder (holding manifest.json)')
    .requiredOption('--key <file>', 'private key (PEM, as strainer keygen writes NAME.pem)')
    .option(
      '--release <n>',
      "set the manifest's release number first (clients refuse a release below one they verified)",
      intArg('--release', 0, Number.MAX_SAFE_INTEGER),
    )
    .option('--force', 'replace an existing manifest.sig, or lower the release')
    .action(async (dir: string, opts: SignCliOptions) => runSign(dir, opts));
}
