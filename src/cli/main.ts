// The `strainer` command line: one file per command, loaded only when that command runs (so
// `strainer --help` starts in a few tens of milliseconds: no onnxruntime, protobuf or codecs), and one
// error policy: a UserError or a commander usage error prints one line `strainer: ...` and exits with
// code 2; anything else is a bug and keeps its stack trace (exit 1).
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { UserError } from '../util/errors.ts';

type Register = (program: Command) => void;

/** Every command: its one-line summary (shown by `strainer --help`) and the module that defines it. */
export const COMMANDS: Record<string, { summary: string; load: () => Promise<Register> }> = {
  fit: {
    summary: 'fit an INR to an image (PNG or JPEG) with onnxruntime',
    load: async () => (await import('./fit.ts')).registerFit,
  },
  'fit-many': {
    summary: 'fit every signal of a data source, resumable, sharded by --shard I/N or a Slurm/Kubernetes array index',
    load: async () => (await import('./fit-many.ts')).registerFitMany,
  },
  pretrain: {
    summary: 'pretrain a STRAINER encoder prior on N images of one domain',
    load: async () => (await import('./pretrain.ts')).registerPretrain,
  },
  eval: {
    summary: 'PSNR against iteration on held-out images: SIREN, fine-tuned SIREN, STRAINER-1, STRAINER-10',
    load: async () => (await import('./eval.ts')).registerEval,
  },
  restore: {
    summary: 'super-resolve or denoise an image by fitting an INR through a forward model (paper Table 6)',
    load: async () => (await import('./restore.ts')).registerRestore,
  },
  demo: {
    summary: 'fit a held-out bundled MRI slice from the shipped prior and from a random SIREN, side by side',
    load: async () => (await import('./demo.ts')).registerDemo,
  },
  export: {
    summary: 'convert a saved TensorFlow.js LayersModel (model.json + .bin shards) into a strainer prior',
    load: async () => (await import('./export.ts')).registerExport,
  },
  quantize: {
    summary:
      'write a compact copy of a float32 prior: encoder weights as float16, or int8 with a scale per output channel',
    load: async () => (await import('./quantize.ts')).registerQuantize,
  },
  keygen: {
    summary: 'create an Ed25519 key pair for signing bundles: NAME.pem (private, mode 0600) and NAME.pub',
    load: async () => (await import('./keygen.ts')).registerKeygen,
  },
  sign: {
    summary: 'sign a bundle: an Ed25519 signature over manifest.json, which pins every file by sha256',
    load: async () => (await import('./sign.ts')).registerSign,
  },
  verify: {
    summary: "check a bundle's signature against a public key, and every file against its manifest",
    load: async () => (await import('./verify.ts')).registerVerify,
  },
  info: {
    summary: 'describe a bundle: kind, name, release, config, data, signature, file sizes, measured gain',
    load: async () => (await import('./info.ts')).registerInfo,
  },
  render: {
    summary: 'render a fitted INR (a strainer fit --out folder) at any resolution and crop through its inference graph',
    load: async () => (await import('./render.ts')).registerRender,
  },
};

/** The package's version, from package.json (two folders up from src/cli/ and from dist/cli/). */
function packageVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}

/** The program with the command named in argv fully defined, the others as summaries only. */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('strainer')
    .description('Implicit neural representations with learned (STRAINER) priors, trained as ONNX graphs')
    .version(packageVersion())
    .exitOverride()
    .configureOutput({
      writeErr: (s) =>
        process.stderr.write(
          s.startsWith('error:')
            ? `strainer: ${s
                .slice(7)
                .trim()
                .replace(/\s*\n\s*/g, ' ')}\n`
            : s,
        ),
    });
  const first = argv.find((a) => !a.startsWith('-'));
  const wanted = first === 'help' ? argv[argv.indexOf('help') + 1] : first;
  for (const [name, c] of Object.entries(COMMANDS)) {
    if (name === wanted) (await c.load())(program);
    else program.command(name).description(c.summary).allowUnknownOption().allowExcessArguments();
    program.commands.find((x) => x.name() === name)?.description(c.summary);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
  program.commands.forEach((c) => c.exitOverride());
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
        return 0;
      return 2; // commander already printed its one-line message
    }
    const err = (e as { cause?: unknown })?.cause instanceof UserError ? (e as { cause: UserError }).cause : e;
    if (err instanceof UserError) {
      process.stderr.write(`strainer: ${err.message}\n`);
      return 2;
    }
    throw e;
  }
}
