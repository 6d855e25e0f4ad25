// The one rule for where the bearer may go, as a pure function (both integrations use it).
import { Destinations, destinationOf, type Origins } from '../src/integrations/destination';

const origins: Origins = {
  apiBase: 'https://api.example.com/v2',
  allowed: ['https://api.example.com', 'https://extra.example.org:8443'],
  own: 'https://own.example.net',
};

test.each<[string, string, string | undefined, boolean, ReturnType<typeof destinationOf>]>([
  ['a relative URL without a base goes to the API', '/things', undefined, false, 'api'],
  ['an empty URL without a base goes to the API', '', undefined, false, 'api'],
  ['the API origin, absolute', 'https://api.example.com/things', undefined, false, 'allowed'],
  ['the API origin, spelled in capitals', 'HTTPS://API.EXAMPLE.COM/things', undefined, false, 'allowed'],
  ['the API origin with the default port', 'https://api.example.com:443/x', undefined, false, 'allowed'],
  ['an allowed origin with its port', 'https://extra.example.org:8443/x', undefined, false, 'allowed'],
  ['an allowed host on another port', 'https://extra.example.org/x', undefined, false, 'elsewhere'],
  ['the client base URL origin', 'https://own.example.net/a', undefined, false, 'allowed'],
  ['another origin', 'https://evil.example/steal', undefined, false, 'elsewhere'],
  ['user info that names the API host', 'https://api.example.com@evil.example/steal', undefined, false, 'elsewhere'],
  ['a prefix of the API host', 'https://api.example.com.evil.example/x', undefined, false, 'elsewhere'],
  ['http instead of https', 'http://api.example.com/x', undefined, false, 'elsewhere'],
  ['protocol-relative to another host', '//evil.example/x', undefined, false, 'elsewhere'],
  ['a relative URL under an allowed base', '/x', 'https://api.example.com/v1', false, 'allowed'],
  ['a relative URL under the client base', '/x', 'https://own.example.net', false, 'allowed'],
  ['a relative URL under another base', '/x', 'https://evil.example', false, 'elsewhere'],
  ['an absolute URL put under its base (allowAbsoluteUrls: false)', 'https://evil.example/x', 'https://api.example.com', true, 'allowed'],
  ['the same, under another base', 'https://api.example.com/x', 'https://evil.example', true, 'elsewhere'],
  ['a non-http scheme', 'file:///etc/passwd', undefined, false, 'elsewhere'],
])('%s', (_name, url, base, absoluteUnderBase, expected) => {
  expect(destinationOf(url, base, absoluteUnderBase, origins)).toBe(expected);
  // The memo answers as the rule does, however often it is asked and whatever came before.
  const memo = new Destinations();
  memo.of('/warm', 'https://evil.example', false, origins);
  expect(memo.of(url, base, absoluteUnderBase, origins)).toBe(expected);
  expect(memo.of(url, base, absoluteUnderBase, origins)).toBe(expected);
});

test('without a manager baseUrl a relative URL goes nowhere the bearer may follow; allowed origins still get it', () => {
  const noApi: Origins = { apiBase: undefined, allowed: ['https://extra.example'] };
  for (const decide of [destinationOf, (...args: Parameters<typeof destinationOf>) => new Destinations().of(...args)]) {
    expect(decide('/x', undefined, false, noApi)).toBe('elsewhere');
    expect(decide('https://extra.example/x', undefined, false, noApi)).toBe('allowed');
    expect(decide('https://other.example/x', undefined, false, noApi)).toBe('elsewhere');
  }
});

test('the memo notices new origins (region discovery moved the API)', () => {
  const memo = new Destinations();
  const before: Origins = { apiBase: 'https://a.example', allowed: ['https://a.example'] };
  const after: Origins = { apiBase: 'https://b.example', allowed: ['https://b.example'] };
  expect(memo.of('/x', 'https://b.example', false, before)).toBe('elsewhere');
  expect(memo.of('/x', 'https://b.example', false, after)).toBe('allowed');
});
