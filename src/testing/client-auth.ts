// Client authentication as an OAuth 2.0 server checks it: the secret (a Basic header or the body),
// or an RFC 7523 assertion signed with the secret (client_secret_jwt) or with the client's
// registered key (private_key_jwt): iss = sub = the client, aud this server, a short life ahead,
// and a jti never seen before; or the TLS client certificate with a client_id (RFC 8705, mtls.ts).
// Vendor dialects only compare id and secret.
import type { KeyObject } from 'node:crypto';
import type { ClientClaim } from './dialect';
import { checkTlsClient, thumbprintOf, type PresentedCertificate, type TlsClientConfig } from './mtls';
import { HMAC_ALGORITHMS, parseJws, publicKeyOf, verifyAsymmetric, verifyHmac, type Jws, type SimKey } from './jws';
import type { SimAuthMethod } from './options';
import type { AssertionRecord, SeenAuthMethod } from './stats';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** How far ahead of the server's clock an assertion's `iat` or `nbf` may be. */
const SKEW_MS = 60_000;

export interface ClientAuthConfig {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly clientKeys?: SimKey | readonly SimKey[] | undefined;
  readonly authMethods?: readonly SimAuthMethod[] | undefined;
  readonly assertionAudiences?: readonly string[] | undefined;
  readonly maxAssertionLifetimeSeconds?: number | undefined;
  readonly tlsClientSubject?: string | undefined;
  readonly selfSignedThumbprints?: readonly (string | Buffer)[] | undefined;
}

/** What a request's client authentication came to: the method seen, the assertion's claims, and why it was refused, if it was. */
export interface ClientVerdict {
  readonly method?: SeenAuthMethod;
  readonly assertion?: AssertionRecord;
  readonly refusal?: string;
}

export class ClientVerifier {
  readonly #config: ClientAuthConfig;
  readonly #keys: readonly KeyObject[];
  readonly #methods: ReadonlySet<string>;
  readonly #tls: TlsClientConfig;
  /** Every accepted assertion's jti, with the moment it may be forgotten (its exp). */
  readonly #seen = new Map<string, number>();

  constructor(config: ClientAuthConfig) {
    this.#config = config;
    const keys =
      config.clientKeys === undefined ? [] : Array.isArray(config.clientKeys) ? (config.clientKeys as readonly SimKey[]) : [config.clientKeys as SimKey];
    this.#keys = keys.map((key) => publicKeyOf(key, 'clientKeys'));
    const defaults: SimAuthMethod[] = [
      'client_secret_basic',
      'client_secret_post',
      'client_secret_jwt',
      ...(this.#keys.length > 0 ? ['private_key_jwt' as const] : []),
      ...(config.tlsClientSubject !== undefined ? ['tls_client_auth' as const] : []),
      ...(config.selfSignedThumbprints !== undefined ? ['self_signed_tls_client_auth' as const] : []),
    ];
    this.#methods = new Set(config.authMethods ?? defaults);
    this.#tls = {
      clientId: config.clientId,
      subject: config.tlsClientSubject,
      thumbprints: new Set((config.selfSignedThumbprints ?? []).map(thumbprintOf)),
      enabled: (method) => this.#methods.has(method),
    };
  }

  /**
   * Check `claim` at the server's `now` (`audiences`: the token endpoint's URL and the issuer of the
   * listener it came to; `certificate`: the one the TLS connection presented), noting the method,
   * the assertion and any refusal in `record`.
   */
  check(
    claim: ClientClaim,
    now: number,
    audiences: readonly string[],
    record: { authMethod?: SeenAuthMethod; assertion?: AssertionRecord; refusal?: string },
    certificate?: PresentedCertificate,
  ): ClientVerdict {
    const verdict = this.#check(claim, now, audiences, certificate);
    Object.assign(
      record,
      verdict.method && { authMethod: verdict.method },
      verdict.assertion && { assertion: verdict.assertion },
      verdict.refusal && { refusal: verdict.refusal },
    );
    return verdict;
  }

  #check(claim: ClientClaim, now: number, audiences: readonly string[], certificate: PresentedCertificate | undefined): ClientVerdict {
    const { clientId, clientSecret } = this.#config;
    const secretOk = claim.clientId === clientId && claim.clientSecret === clientSecret;
    if (claim.via === undefined) return secretOk ? {} : { refusal: 'wrong client id or secret' };
    if (claim.via === 'several') return { method: 'several', refusal: 'more than one client authentication method' };
    if (claim.via === 'none' && certificate !== undefined) return checkTlsClient(this.#tls, claim.clientId, certificate);
    if (claim.via === 'none') return { method: 'none', refusal: 'no client authentication' };
    if (claim.via === 'assertion') return this.#assertion(claim, now, audiences);
    const method = claim.via === 'basic' ? 'client_secret_basic' : 'client_secret_post';
    if (!this.#methods.has(method)) return { method, refusal: `${method} is not enabled for this client` };
    return secretOk ? { method } : { method, refusal: 'wrong client id or secret' };
  }

  #assertion(claim: ClientClaim, now: number, audiences: readonly string[]): ClientVerdict {
    const jws = parseJws(claim.assertion);
    const method = (HMAC_ALGORITHMS as readonly unknown[]).includes(jws?.header['alg']) ? 'client_secret_jwt' : 'private_key_jwt';
    const assertion = jws && recordOf(jws);
    const refuse = (refusal: string): ClientVerdict => ({ method, ...(assertion && { assertion }), refusal });
    if (claim.assertionType !== JWT_BEARER) return refuse('client_assertion_type is not urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    if (jws === undefined) return refuse('client_assertion is not a compact JWS');
    if (!this.#methods.has(method)) return refuse(`${method} is not enabled for this client`);
    if (method === 'private_key_jwt' && this.#keys.length === 0) return refuse('no client key is registered (clientKeys)');
    const signed = method === 'client_secret_jwt' ? verifyHmac(jws, this.#config.clientSecret) : this.#keys.some((key) => verifyAsymmetric(jws, key));
    if (!signed) return refuse(`the signature does not verify with the ${method === 'client_secret_jwt' ? 'client secret' : 'registered client key'}`);
    const problem = this.#claimsProblem(jws.payload, claim.clientId, now, audiences);
    if (problem !== undefined) return refuse(problem);
    const jti = jws.payload['jti'] as string;
    this.#forget(now);
    if (this.#seen.has(jti)) return refuse('the assertion was used before (jti replayed)');
    this.#seen.set(jti, (jws.payload['exp'] as number) * 1000);
    return { method, assertion: assertion! };
  }

  #claimsProblem(payload: Jws['payload'], bodyId: string | undefined, now: number, audiences: readonly string[]): string | undefined {
    const { clientId } = this.#config;
    const { iss, sub, aud, exp, iat, nbf, jti } = payload;
    if (iss !== clientId || sub !== clientId) return 'iss and sub must both be the client id';
    if (bodyId !== undefined && bodyId !== clientId) return 'client_id is not the client of the assertion';
    const accepted = (this.#config.assertionAudiences ?? audiences).map(trimmed);
    const named = Array.isArray(aud) ? (aud as unknown[]) : [aud];
    if (!named.some((value) => typeof value === 'string' && accepted.includes(trimmed(value)))) return 'aud names neither the token endpoint nor the issuer';
    if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'exp is missing';
    if (exp * 1000 <= now) return 'the assertion has expired';
    const longest = this.#config.maxAssertionLifetimeSeconds ?? 300;
    if (exp * 1000 - now > longest * 1000) return `exp is more than ${longest} s ahead`;
    if (iat !== undefined && (typeof iat !== 'number' || iat * 1000 > now + SKEW_MS)) return 'iat is in the future';
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf * 1000 > now + SKEW_MS)) return 'nbf is in the future';
    if (typeof jti !== 'string' || jti.length === 0) return 'jti is missing';
    return undefined;
  }

  /** Drop the jti of assertions that have expired: they could not be replayed anyway. */
  #forget(now: number): void {
    if (this.#seen.size < 256) return;
    for (const [jti, until] of this.#seen) if (until + SKEW_MS < now) this.#seen.delete(jti);
  }
}

const trimmed = (url: string) => url.replace(/\/+$/, '');

function recordOf({ header, payload }: Jws): AssertionRecord {
  return {
    alg: header['alg'],
    ...(header['typ'] !== undefined && { typ: header['typ'] }),
    ...(header['kid'] !== undefined && { kid: header['kid'] }),
    iss: payload['iss'],
    sub: payload['sub'],
    aud: payload['aud'],
    jti: payload['jti'],
    ...(payload['iat'] !== undefined && { iat: payload['iat'] }),
    exp: payload['exp'],
  };
}
