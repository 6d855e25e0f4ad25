// Every token the simulator issued: who it belongs to, when it dies, whether it was revoked, and
// (for a dialect that hands out the same token until it is revoked) which one a client gets back.
import { randomBytes } from 'node:crypto';
import { newKey, signHs256 } from './jws';
import type { TokenIssuance } from './stats';

interface Issued extends TokenIssuance {
  readonly client: string;
  revoked: boolean;
}

export interface Minting {
  /** RFC 9449 `cnf.jkt`: the DPoP key the token is bound to. */
  readonly jkt?: string | undefined;
  /** RFC 8705 `cnf.x5t#S256`: the client certificate the token is bound to. */
  readonly x5t?: string | undefined;
  /** CrowdStrike MSSP: the child CID the token acts for (`member_cid`). */
  readonly member?: string | undefined;
  /** Make the token an RFC 9068 JWT (HS256, under a key of the registry's) with these claims (`aud`: the resources). */
  readonly jwt?:
    { readonly issuer: string; readonly clientId?: string; readonly scope?: string; readonly resources?: readonly string[] | undefined } | undefined;
}

export class TokenRegistry {
  readonly #tokens = new Map<string, Issued>();
  /** Same-token reuse: the live token per client. */
  readonly #reusable = new Map<string, string>();
  readonly #prefix: string;
  readonly #jwtKey = newKey();

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /**
   * A new token for `client`, the `sequence`-th issued, living from `issuedAt` for `lifetimeSeconds`:
   * bound to a DPoP key, and a JWT instead of a random string, as `bound` says.
   */
  issue(client: string, sequence: number, issuedAt: number, lifetimeSeconds: number, reusable: boolean, bound: Minting = {}): string {
    const expiresAt = issuedAt + lifetimeSeconds * 1000;
    const id = `${this.#prefix}_${randomBytes(24).toString('base64url')}`;
    const token = bound.jwt ? this.#jwt(id, issuedAt, expiresAt, bound.jwt, bound) : id;
    const binding = {
      ...(bound.jkt !== undefined && { jkt: bound.jkt }),
      ...(bound.x5t !== undefined && { x5tS256: bound.x5t }),
      ...(bound.member !== undefined && { memberCid: bound.member }),
    };
    this.#tokens.set(token, { client, sequence, issuedAt, expiresAt, revoked: false, ...binding });
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

  /** `exp` is the second the token dies in (its last whole second). */
  #jwt(jti: string, issuedAt: number, expiresAt: number, claims: NonNullable<Minting['jwt']>, { jkt, x5t }: Minting): string {
    const { issuer, clientId, scope, resources } = claims;
    const [iat, exp] = [Math.floor(issuedAt / 1000), Math.floor(expiresAt / 1000)];
    // RFC 9068 §3: aud is the resource, or the resources.
    const aud = resources === undefined || resources.length === 0 ? undefined : resources.length === 1 ? resources[0] : [...resources];
    const cnf = jkt === undefined && x5t === undefined ? undefined : { ...(jkt !== undefined && { jkt }), ...(x5t !== undefined && { 'x5t#S256': x5t }) };
    const payload = {
      iss: issuer,
      sub: clientId,
      ...(aud !== undefined && { aud }),
      client_id: clientId,
      iat,
      exp,
      jti,
      ...(scope && { scope }),
      ...(cnf && { cnf }),
    };
    return signHs256(payload, this.#jwtKey);
  }

  issuance(token: string): TokenIssuance | undefined {
    const issued = this.#tokens.get(token);
    return (
      issued && {
        sequence: issued.sequence,
        issuedAt: issued.issuedAt,
        expiresAt: issued.expiresAt,
        ...(issued.jkt !== undefined && { jkt: issued.jkt }),
        ...(issued.x5tS256 !== undefined && { x5tS256: issued.x5tS256 }),
        ...(issued.memberCid !== undefined && { memberCid: issued.memberCid }),
      }
    );
  }
}
