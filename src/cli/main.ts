// The `strainer` command line: one file per command (register functions below), one error policy:
// a UserError or a commander usage error prints one line `strainer: ...` and exits with code 2;
// anything else is a bug and keeps its stack trace (exit 1).
import { Command, CommanderError } from 'commander';
import { UserError } from '../util/errors.ts';
import { registerFit } from './fit.ts';
import { registerPretrain } from './pretrain.ts';
import { registerEval } from './eval.ts';
import { registerDemo } from './demo.ts';
import { registerExport } from './export.ts';
import { registerRestore } from './restore.ts';

export function buildProgram(): Command {
  const program = new Command('strainer')
    .description('Implicit neural representations with learned (STRAINER) priors, trained as ONNX graphs')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `strainer: ${s.slice(7).trim().replace(/\s*\n\s*/g, ' ')}\n` : s) });
  registerFit(program);
  registerPretrain(program);
  registerEval(program);
  registerRestore(program);
  registerDemo(program);
  registerExport(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.commands.forEach((c) => c.exitOverride());
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
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
