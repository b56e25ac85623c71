// Option parsers for the CLI: each turns a string into a checked value or throws a UserError naming
// the flag, so `--iters abc` or `--lr -1` end as one line and exit code 2. A number a library call
// also takes is checked by that setting's one rule (src/train/plan.ts SETTINGS), so the command line
// and the libraries accept and refuse the same values.
import { UserError } from '../util/errors.ts';
import { checkSetting, SETTINGS, type SettingName } from '../train/plan.ts';

/** A flag holding the setting `name`: parsed as a number, then checked by its rule under the flag's name. */
export function settingArg(flag: string, name: SettingName): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n))
      throw new UserError(`${flag} must be ${SETTINGS[name].integer ? 'an integer' : 'a number'}, got '${v}'`);
    return checkSetting(name, n, flag);
  };
}

/** A number flag that is not a shared setting (its range is the command's own). */
export function intArg(flag: string, lo: number, hi: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n)) throw new UserError(`${flag} must be an integer, got '${v}'`);
    if (n < lo || n > hi) throw new UserError(`${flag} must be an integer between ${lo} and ${hi}, got ${n}`);
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
