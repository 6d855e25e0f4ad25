// Keeping secrets out of messages: what a server echoes back, in every form a secret takes on the
// wire, is replaced before any text from the network reaches an error.

/**
 * Replace every occurrence of a secret (in any letter case: a server may upper- or lower-case what
 * it echoes), and cap the length of text from the network.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first: a form that contains another (base64 with and without padding) goes whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 4) out = out.replace(new RegExp(secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '[redacted]');
  }
  if (out.length > 500) out = `${out.slice(0, 500)}…`;
  // eslint-disable-next-line no-control-regex
  return out.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

/**
 * The forms a client secret can take when a server echoes it back: as is, URL- and form-encoded
 * (in either case of hex digit, and encoded twice), base64 and base64url of it and of the
 * `id:secret` pair of a Basic header (raw or form-encoded), JSON-escaped, hex. None of them may
 * reach a message.
 */
export function secretForms(secret: string, clientId?: string): string[] {
  const encodings = (text: string) => {
    const url = encodeURIComponent(text);
    const form = new URLSearchParams({ s: text }).toString().slice(2);
    return [text, url, form, encodeURIComponent(url), encodeURIComponent(form)];
  };
  const lowerHex = (text: string) => text.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());
  const base64 = (text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    return [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('base64').replace(/=+$/, '')];
  };
  const pairs = clientId === undefined ? [] : [`${clientId}:${secret}`, `${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`];
  // JSON-escaped (a server that builds its error text by hand) and hex, too.
  const escaped = JSON.stringify(secret).slice(1, -1);
  const hex = Buffer.from(secret, 'utf8').toString('hex');
  const forms = [...encodings(secret).flatMap((form) => [form, lowerHex(form)]), ...[secret, ...pairs].flatMap(base64), escaped, hex];
  return [...new Set(forms)];
}

export function basicCredential(clientId: string, clientSecret: string): string {
  return Buffer.from(`${clientId}:${clientSecret}`, 'utf8').toString('base64');
}
