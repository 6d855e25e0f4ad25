// The AccessToken as handed out: frozen, and printed without the token itself.
import { inspect } from 'node:util';
import type { AccessToken } from '../types';

const REDACTED_VIEW = Symbol.for('nodejs.util.inspect.custom');

/**
 * A frozen AccessToken whose `util.inspect` / `console.log` form hides the token itself, so logging
 * a refresh event does not leak it. The value is still a plain readable property.
 */
export function accessTokenOf(fields: AccessToken): AccessToken {
  const token = { ...fields };
  Object.defineProperty(token, REDACTED_VIEW, { enumerable: false, value: redactedView });
  return Object.freeze(token);
}

function redactedView(this: AccessToken, depth: number, options: object): string {
  const { accessToken: _hidden, ...rest } = this;
  return `AccessToken ${inspect({ accessToken: '[redacted]', ...rest }, { ...options, depth })}`;
}
