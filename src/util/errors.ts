// User-facing errors. Anything thrown as a UserError is printed by the CLI as one line
// ("strainer: <message>") with exit code 2; anything else is a bug and keeps its stack trace.

export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Throw a UserError unless `cond` holds. */
export function check(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new UserError(typeof message === 'string' ? message : message());
}
