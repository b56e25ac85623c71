// Option parsers for the CLI: each turns a string into a checked value or throws a UserError naming
// the flag, so `--iters abc` or `--lr -1` end as one line and exit code 2.
import { UserError } from '../util/errors.ts';

export function intArg(flag: string, lo: number, hi: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n)) throw new UserError(`${flag} must be an integer, got '${v}'`);
    if (n < lo || n > hi) throw new UserError(`${flag} must be between ${lo} and ${hi}, got ${n}`);
    return n;
  };
}

export function floatArg(flag: string, lo: number, hi: number, exclusiveLo = false): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new UserError(`${flag} must be a number, got '${v}'`);
    if (n < lo || n > hi || (exclusiveLo && n === lo))
      throw new UserError(`${flag} must be ${exclusiveLo ? 'above' : 'at least'} ${lo} and at most ${hi}, got ${n}`);
    return n;
  };
}

export function choiceArg<T extends string>(flag: string, choices: readonly T[]): (v: string) => T {
  return (v) => {
    if (!(choices as readonly string[]).includes(v))
      throw new UserError(`${flag} must be one of ${choices.join(', ')}, got '${v}'`);
    return v as T;
  };
}
