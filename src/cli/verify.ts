// `strainer verify BUNDLE --public-key PUB`: checks manifest.sig against the pinned key and every file
// against manifest.json's sha256. Also the CLI's one way to load a prior with or without a pinned key
// (`strainer fit --prior DIR --public-key PUB`): a shipped prior is checked against the project key;
// any other prior without a key gets one note on stderr that it is unsigned, or signed but not verified.
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadBundle } from '../export/bundle.ts';
import { loadPrior, type BundledPrior } from '../export/prior.ts';
import { SIGNATURE_FILE } from '../export/signature.ts';
import { dirSource } from '../node/fs.ts';
import { priorDir, SHIPPED_PRIORS_DIR } from '../node/api.ts';

/** The project's public key, committed beside the shipped priors (models/); its private half is not. */
const PROJECT_KEY_FILE = 'strainer-project.pub';
import { UserError } from '../util/errors.ts';

/** A key file's text, or a UserError naming the flag. */
export function readKeyFile(path: string, flag: string): string {
  if (!existsSync(path)) throw new UserError(`${flag} ${path}: no such file`);
  return readFileSync(path, 'utf8');
}

/** Whether a bundle folder carries a signature (not whether it verifies). */
export const isSigned = (dir: string): boolean => existsSync(join(dir, SIGNATURE_FILE));

const noted = new Set<string>();

/** Loads the prior in folder `arg` (or shipped under that name); with `publicKeyFile` it must be signed by that key. */
export async function loadCliPrior(arg: string, publicKeyFile?: string): Promise<BundledPrior> {
  const dir = priorDir(arg); // a folder, or the name of a prior shipped with strainer
  if (publicKeyFile !== undefined)
    return loadPrior(dirSource(dir), { publicKey: readKeyFile(publicKeyFile, '--public-key') });
  // A prior shipped in the package is always checked against the project key shipped beside it.
  const projectKey = join(SHIPPED_PRIORS_DIR, PROJECT_KEY_FILE);
  if (resolve(dir, '..') === resolve(SHIPPED_PRIORS_DIR) && existsSync(projectKey))
    return loadPrior(dirSource(dir), { publicKey: readFileSync(projectKey, 'utf8') });
  const prior = await loadPrior(dirSource(dir));
  const note = isSigned(dir)
    ? `strainer: note: prior ${dir} is signed but not verified (pass --public-key to check the signature)\n`
    : `strainer: note: prior ${dir} is unsigned (its files match its own manifest; nothing vouches for the manifest)\n`;
  if (!noted.has(`${resolve(dir)}\n${note}`)) {
    noted.add(`${resolve(dir)}\n${note}`);
    process.stderr.write(note);
  }
  return prior;
}

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
