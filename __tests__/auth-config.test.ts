// Bad input to the client authentication options: a ConfigError naming the option and the fix,
// thrown when the provider is made (not at the first token call), and never a word of key material.
import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { thrownBy } from './helpers/setup';
import { clientCredentials, ConfigError, type ClientCredentialsOptions } from '../src';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ecPem = ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const ecJwk = ec.privateKey.export({ format: 'jwk' });
const base = { tokenUrl: 'https://auth.example/token', clientId: 'client' };
/** What would give a key away if it appeared in a message. */
const KEY_MATERIAL = [ecPem.split('\n')[1]!.slice(0, 24), ecJwk.d!, 'BEGIN', 'PRIVATE KEY'];

const cases: [string, Partial<ClientCredentialsOptions> & Record<string, unknown>, string, RegExp][] = [
  ['private_key_jwt without a key', { authMethod: 'private_key_jwt' }, 'privateKey', /privateKey is required/],
  [
    'a PEM that is not a key',
    { privateKey: `-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5${ecJwk.d}\n-----END PRIVATE KEY-----\n` },
    'privateKey',
    /could not be read: give a private key as a PEM string, a JWK object/,
  ],
  ['a public key where a private one is needed', { privateKey: ec.publicKey }, 'privateKey', /is a public key; a private key is needed/],
  ['a JWK without "d"', { privateKey: { ...ecJwk, d: undefined } }, 'privateKey', /could not be read|public key/],
  ['an EC key with RS256', { privateKey: ecPem, algorithm: 'RS256' }, 'algorithm', /RS256 cannot be signed with privateKey \(a P-256 key\): use ES256/],
  ['an RSA key with ES256', { privateKey: rsa.privateKey, algorithm: 'ES256' }, 'algorithm', /ES256 cannot be signed .* use RS256/],
  [
    'an unknown algorithm',
    { privateKey: ecJwk, algorithm: 'ES257' as never },
    'algorithm',
    /algorithm must be one of RS256, .*EdDSA \(got a 5-character string\)/,
  ],
  [
    'client_secret_jwt with an asymmetric algorithm',
    { authMethod: 'client_secret_jwt', clientSecret: 's', algorithm: 'ES256' },
    'algorithm',
    /HS256, HS384 or HS512/,
  ],
  ['a secret method without a secret', { authMethod: 'client_secret_post' }, 'clientSecret', /clientSecret is required for client_secret_post/],
  ['a secret beside a key', { privateKey: ecJwk, clientSecret: 's' }, 'clientSecret', /does not use clientSecret: leave it out/],
  ['a key with a secret method', { clientSecret: 's', authMethod: 'client_secret_basic', privateKey: ecJwk }, 'privateKey', /private_key_jwt only/],
  ['a certificate with a secret method', { clientSecret: 's', certificate: 'x' }, 'certificate', /private_key_jwt only/],
  ['a certificate that is not PEM', { privateKey: ecPem, certificate: 'not a certificate' }, 'certificate', /must be the PEM certificate of privateKey/],
  ['a keyId for a method without assertions', { clientSecret: 's', keyId: 'k1' }, 'keyId', /used by client assertions only .* not client_secret_basic/],
  [
    'an algorithm for client_secret_post',
    { authMethod: 'client_secret_post', clientSecret: 's', algorithm: 'ES256' },
    'algorithm',
    /used by client assertions only/,
  ],
  [
    "a ':' in the client id with raw Basic",
    { clientId: 'a:b', clientSecret: 's', basicEncoding: 'raw' },
    'basicEncoding',
    /cannot be sent unencoded over Basic/,
  ],
  ['tls_client_auth without a certificate', { authMethod: 'tls_client_auth' }, 'tls', /needs tls: \{ cert, key \}/],
  ['a key without its certificate', { authMethod: 'tls_client_auth', tls: { key: ecPem } }, 'tls', /needs both cert and key/],
  ['a basicEncoding typo', { clientSecret: 's', basicEncoding: 'Form' as never }, 'basicEncoding', /'form' \(RFC 6749 §2.3.1\) or 'raw'/],
  [
    'an authMethod typo',
    { clientSecret: 's', authMethod: 'private_key_jwk' as never },
    'authMethod',
    /must be one of client_secret_basic, .*self_signed_tls_client_auth/,
  ],
  ['a DPoP key that cannot be read', { clientSecret: 's', dpop: { privateKey: 'not a key' } }, 'dpop.privateKey', /dpop.privateKey could not be read/],
  [
    'a DPoP key and an algorithm that do not fit',
    { clientSecret: 's', dpop: { privateKey: ecJwk, algorithm: 'EdDSA' } },
    'dpop.algorithm',
    /EdDSA cannot be signed with dpop.privateKey/,
  ],
  ['dpop: null', { clientSecret: 's', dpop: null as never }, 'dpop', /dpop must be true, false or \{ privateKey, algorithm \}/],
  [
    'a typo inside dpop (it would make a key per manager)',
    { clientSecret: 's', dpop: { prvateKey: ecPem } as never },
    'dpop.prvateKey',
    /did you mean dpop.privateKey\?/,
  ],
  ['a DPoP algorithm without a key', { clientSecret: 's', dpop: { algorithm: 'RS256' } }, 'dpop.algorithm', /needs a dpop.privateKey that fits it/],
  [
    'an RSA-PSS key',
    { privateKey: generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey },
    'privateKey',
    /rsa-pss key, which cannot sign here: use an RSA/,
  ],
  [
    'an Ed448 key for DPoP',
    { clientSecret: 's', dpop: { privateKey: generateKeyPairSync('ed448').privateKey } },
    'dpop.privateKey',
    /ed448 key, which cannot sign here/,
  ],
  ['a tls.ca that is not a certificate', { clientSecret: 's', tls: { ca: 'not a pem' } }, 'tls', /tls.ca must be a PEM certificate/],
  ['a tls.ca of the wrong type', { clientSecret: 's', tls: { ca: [123] as never } }, 'tls', /tls.ca must be a PEM certificate/],
  [
    'tokenParams setting a reserved parameter',
    { clientSecret: 's', tokenParams: { client_id: 'other' } },
    'tokenParams',
    /may not set client_id: use the option for it/,
  ],
  [
    'tokenParams with a value that is not a string',
    { clientSecret: 's', tokenParams: { prompt: 1 as never } },
    'tokenParams',
    /tokenParams.prompt must be a string/,
  ],
  ['a relative resource', { clientSecret: 's', resource: 'api' }, 'resource', /absolute URI without a fragment/],
  [
    'a resource with a fragment',
    { clientSecret: 's', resource: ['https://api.example/', 'https://api.example/#x'] },
    'resource',
    /absolute URI without a fragment/,
  ],
];

test.each(cases)('%s: a ConfigError on the option, saying what to fix', (_name, options, option, says) => {
  const thrown = thrownBy(() => clientCredentials({ ...base, ...options }));
  expect(thrown).toBeInstanceOf(ConfigError);
  const error = thrown as ConfigError;
  expect(error).toMatchObject({ code: 'invalid_config', option });
  expect(error.message).toMatch(says);
  const shown = `${error.message} ${error.stack} ${inspect(error, { showHidden: true })}`;
  for (const material of KEY_MATERIAL) expect(shown).not.toContain(material);
});

test('a provider with a key or a DPoP key shows neither in inspect or JSON', () => {
  const provider = clientCredentials({ ...base, privateKey: ec.privateKey, dpop: { privateKey: ecPem } });
  const shown = `${inspect(provider, { showHidden: true, depth: 6 })} ${JSON.stringify(provider)}`;
  for (const material of KEY_MATERIAL) expect(shown).not.toContain(material);
});

test('dpop: false is no DPoP at all', () => {
  const off = clientCredentials({ ...base, clientSecret: 's', dpop: false as never });
  expect(off.binding).toBeUndefined();
  expect(off.identity).toBe(clientCredentials({ ...base, clientSecret: 's' }).identity);
});

test('two managers with dpop: true have keys of their own, so they never share a store entry', () => {
  const one = clientCredentials({ ...base, clientSecret: 's', dpop: true });
  const two = clientCredentials({ ...base, clientSecret: 's', dpop: true });
  const plain = clientCredentials({ ...base, clientSecret: 's' });
  expect(new Set([one.identity, two.identity, plain.identity]).size).toBe(3);
  const shared = { privateKey: ecPem };
  expect(clientCredentials({ ...base, clientSecret: 's', dpop: shared }).identity).toBe(
    clientCredentials({ ...base, clientSecret: 's', dpop: shared }).identity,
  );
});
