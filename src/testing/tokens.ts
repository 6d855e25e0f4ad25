// Every token the simulator issued: who it belongs to, when it dies, whether it was revoked, and
// (for a dialect that hands out the same token until it is revoked) which one a client gets back.
import { randomBytes } from 'node:crypto';
import type { TokenIssuance } from './stats';

interface Issued extends TokenIssuance {
  readonly client: string;
  revoked: boolean;
}

export class TokenRegistry {
  readonly #tokens = new Map<string, Issued>();
  /** Same-token reuse: the live token per client. */
  readonly #reusable = new Map<string, string>();
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** A new token for `client`, the `sequence`-th issued, living from `issuedAt` for `lifetimeSeconds`. */
  issue(client: string, sequence: number, issuedAt: number, lifetimeSeconds: number, reusable: boolean): string {
    const token = `${this.#prefix}_${randomBytes(24).toString('base64url')}`;
    this.#tokens.set(token, { client, sequence, issuedAt, expiresAt: issuedAt + lifetimeSeconds * 1000, revoked: false });
    if (reusable) this.#reusable.set(client, token);
    return token;
  }

  /** The token `client` would be handed back now, with its remaining whole seconds, if any. */
  reusableFor(client: string, now: number): { token: string; expiresIn: number } | undefined {
    const token = this.#reusable.get(client);
    const issued = token === undefined ? undefined : this.#tokens.get(token);
    if (token === undefined || issued === undefined || issued.revoked || issued.expiresAt - now < 1000) return undefined;
    // The remaining lifetime, the harder case for a client.
    return { token, expiresIn: Math.floor((issued.expiresAt - now) / 1000) };
  }

  /** Revoke `token` (expired or not); true when it was one of ours not yet revoked. */
  revoke(token: string): boolean {
    const issued = this.#tokens.get(token);
    if (issued === undefined || issued.revoked) return false;
    issued.revoked = true;
    if (this.#reusable.get(issued.client) === token) this.#reusable.delete(issued.client);
    return true;
  }

  /** Revoke every token still alive at `now`; how many. */
  revokeAll(now: number): number {
    let count = 0;
    for (const [token, issued] of this.#tokens) if (issued.expiresAt > now && this.revoke(token)) count++;
    this.#reusable.clear();
    return count;
  }

  /** Why the API refuses `token` at `now`, or undefined when it accepts it. */
  refusal(token: string | undefined, now: number): 'missing' | 'unknown' | 'expired' | 'revoked' | undefined {
    if (token === undefined) return 'missing';
    const issued = this.#tokens.get(token);
    if (issued === undefined) return 'unknown';
    if (issued.expiresAt <= now) return 'expired';
    return issued.revoked ? 'revoked' : undefined;
  }

  issuance(token: string): TokenIssuance | undefined {
    const issued = this.#tokens.get(token);
    return issued && { sequence: issued.sequence, issuedAt: issued.issuedAt, expiresAt: issued.expiresAt };
  }
}
