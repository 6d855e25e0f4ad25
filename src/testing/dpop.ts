// DPoP (RFC 9449) as a server checks it: a proof per request (typ dpop+jwt, an asymmetric alg, a
// public jwk it verifies with, htm and htu of this request, a recent iat, a jti never seen, the
// server's current nonce when it hands them out, and at the API the token's hash and the key the
// token is bound to). Off, the simulator is a server that has never heard of DPoP: proofs are
// recorded as ignored and Bearer tokens issued.
import { randomBytes } from 'node:crypto';
import type { Reply, SimRequest } from './dialect';
import { ASYMMETRIC_ALGORITHMS, embeddedKey, parseJws, sha256, thumbprintOf, verifyAsymmetric } from './jws';
import type { DpopServerOptions } from './options';
import type { DpopProofRecord, SimulatorStats } from './stats';

interface Check {
  readonly record: DpopProofRecord;
  /** `'nonce'`: fine but for the nonce. */
  readonly problem?: string;
  readonly jkt?: string;
}

export class DpopVerifier {
  readonly enabled: boolean;
  readonly #options: DpopServerOptions;
  /** The simulator: its stats (replaced by `resetStats()`) and its clock. */
  readonly #server: { readonly stats: SimulatorStats; now(): number };
  /** Every accepted proof's jti, with its iat (ms): a proof is good for the window only. */
  readonly #seen = new Map<string, number>();
  #nonce: string | undefined;

  constructor(option: boolean | DpopServerOptions | undefined, server: { readonly stats: SimulatorStats; now(): number }) {
    this.enabled = option !== undefined && option !== false;
    this.#options = typeof option === 'object' ? option : {};
    this.#server = server;
    if (this.#options.nonce) this.rotate();
  }

  /** The nonce proofs must carry now, in nonce mode. */
  get nonce(): string | undefined {
    return this.#nonce;
  }

  /** A new nonce: proofs with the old one are refused from now on. */
  rotate(): string {
    this.#nonce = randomBytes(16).toString('base64url');
    return this.#nonce;
  }

  /** What every answer carries in nonce mode. */
  headers(): Record<string, string> {
    return this.#nonce === undefined ? {} : { 'DPoP-Nonce': this.#nonce };
  }

  /** The token endpoint at `url` (no query): a refusal, or the thumbprint the token is to be bound to (none: a Bearer token). */
  atToken(request: SimRequest, url: string): { reply?: Reply; jkt?: string; record?: DpopProofRecord; refusal?: string } {
    const header = request.headers['dpop'];
    if (!this.enabled) return header === undefined ? {} : { record: this.#check(header, 'token', request.method, url, undefined, undefined, true).record };
    if (header === undefined) return this.#options.required ? this.#tokenRefusal('invalid_dpop_proof', 'a DPoP proof is required') : {};
    const { record, problem, jkt } = this.#check(header, 'token', request.method, url, undefined, undefined);
    if (problem === 'nonce') return { record, ...this.#tokenRefusal('use_dpop_nonce', 'the DPoP proof must carry the nonce in the DPoP-Nonce header') };
    if (problem !== undefined) return { record, ...this.#tokenRefusal('invalid_dpop_proof', problem) };
    return { record, ...(jkt !== undefined && { jkt }) };
  }

  /** The API at `url`: a 401 for the request, or undefined when its token (bound to `jkt`, or not) may be used. */
  atApi(request: SimRequest, url: string, scheme: 'bearer' | 'dpop', token: string, jkt: string | undefined): Reply | undefined {
    if (scheme === 'bearer')
      return jkt === undefined ? undefined : this.challenge('invalid_token', 'the token is DPoP-bound: send it with the DPoP scheme and a proof');
    if (jkt === undefined) return this.challenge('invalid_token', 'the token is not DPoP-bound: send it as Bearer');
    const header = request.headers['dpop'];
    if (header === undefined) return this.challenge('invalid_dpop_proof', 'no DPoP proof');
    const { problem } = this.#check(header, 'api', request.method, url, token, jkt);
    if (problem === 'nonce') return this.challenge('use_dpop_nonce', 'the DPoP proof must carry the nonce in the DPoP-Nonce header');
    return problem === undefined ? undefined : this.challenge('invalid_dpop_proof', problem);
  }

  /** An RFC 9449 §7.1 401 from the API. */
  challenge(error: 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce', description: string): Reply {
    const algs = (this.#options.algorithms ?? ASYMMETRIC_ALGORITHMS).join(' ');
    return {
      status: 401,
      body: { error, error_description: description },
      headers: { 'WWW-Authenticate': `DPoP error="${error}", error_description="${description}", algs="${algs}"`, ...this.headers() },
    };
  }

  #tokenRefusal(error: string, description: string): { reply: Reply; refusal: string } {
    return { reply: { status: 400, body: { error, error_description: description }, headers: this.headers() }, refusal: `${error}: ${description}` };
  }

  #check(text: string, endpoint: 'token' | 'api', htm: string, url: string, token: string | undefined, jkt: string | undefined, ignored = false): Check {
    const jws = parseJws(text);
    const { header = {}, payload = {} } = jws ?? {};
    const key = embeddedKey(header['jwk']);
    const thumbprint = key && thumbprintOf(key);
    const problem = ignored ? undefined : this.#problem(jws, key, htm, url, token, jkt, thumbprint);
    const fields = { at: this.#server.now(), endpoint, typ: header['typ'], alg: header['alg'], htm: payload['htm'], htu: payload['htu'], iat: payload['iat'] };
    const record: DpopProofRecord = {
      ...fields,
      jti: payload['jti'],
      ...(payload['ath'] !== undefined && { ath: payload['ath'] }),
      ...(payload['nonce'] !== undefined && { nonce: payload['nonce'] }),
      ...(thumbprint !== undefined && { jkt: thumbprint }),
      verdict: ignored ? 'ignored' : problem === undefined ? 'ok' : problem === 'nonce' ? 'use_dpop_nonce' : problem,
    };
    this.#server.stats.dpopProofs.push(record);
    if (problem === undefined && !ignored) this.#seen.set(payload['jti'] as string, (payload['iat'] as number) * 1000);
    return { record, ...(problem !== undefined && { problem }), ...(thumbprint !== undefined && { jkt: thumbprint }) };
  }

  #problem(
    jws: ReturnType<typeof parseJws>,
    key: ReturnType<typeof embeddedKey>,
    htm: string,
    url: string,
    token: string | undefined,
    jkt: string | undefined,
    thumbprint: string | undefined,
  ): string | undefined {
    if (jws === undefined) return 'the DPoP proof is not a compact JWS';
    const { header, payload } = jws;
    if (header['typ'] !== 'dpop+jwt') return 'typ is not dpop+jwt';
    if (!(this.#options.algorithms ?? ASYMMETRIC_ALGORITHMS).includes(String(header['alg']))) return 'alg is not an accepted one';
    if (key === undefined) return 'jwk is not a public key';
    if (!verifyAsymmetric(jws, key)) return 'the signature does not verify with the embedded jwk';
    if (payload['htm'] !== htm) return `htm is not ${htm}`;
    if (!sameUrl(payload['htu'], url)) return 'htu is not the URL of this request (without query and fragment)';
    const iat = payload['iat'];
    const window = (this.#options.proofWindowSeconds ?? 60) * 1000;
    const now = this.#server.now();
    if (typeof iat !== 'number' || Math.abs(iat * 1000 - now) > window) return 'iat is missing or too far from the server clock';
    const jti = payload['jti'];
    if (typeof jti !== 'string' || jti.length === 0) return 'jti is missing';
    for (const [seen, at] of this.#seen) if (at < now - 2 * window) this.#seen.delete(seen);
    if (this.#seen.has(jti)) return 'the proof was used before (jti replayed)';
    if (token !== undefined && payload['ath'] !== sha256(token)) return 'ath is not the hash of the access token';
    if (jkt !== undefined && thumbprint !== jkt) return 'the proof is signed with another key than the one the token is bound to';
    if (this.#nonce !== undefined && payload['nonce'] !== this.#nonce) return 'nonce';
    return undefined;
  }
}

/** RFC 9449 §4.3: `htu` has no query or fragment and names `url` (scheme and host compared case-insensitively). */
function sameUrl(htu: unknown, url: string): boolean {
  if (typeof htu !== 'string' || /[?#]/.test(htu)) return false;
  try {
    const a = new URL(htu);
    const b = new URL(url);
    return a.origin === b.origin && a.pathname === b.pathname;
  } catch {
    return false;
  }
}
