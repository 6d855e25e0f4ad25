// Test certificates made with the openssl CLI: a test CA, a server certificate for 127.0.0.1, client
// certificates the CA signed, and self-signed ones. Used by the oidc-provider rig and the simulator's
// mTLS tests.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pem {
  cert: string;
  key: string;
}

export interface Certificates {
  ca: string;
  server: Pem;
  /** Signed by the CA, subject CN=tls-client. */
  client: Pem;
  /** Self-signed, registered by thumbprint (self_signed_tls_client_auth). */
  selfSigned: Pem;
  /** Signed by the CA but registered by no client. */
  other: Pem;
  /** Self-signed with the subject of `client` (CN=tls-client): the CA did not sign it. */
  impostor: Pem;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** Makes the certificates in `dir` (which the caller removes). */
export function certificates(dir: string): Certificates {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(dir, 'req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=tokenwarden test CA', '-days', '2');
  const signed = (name: string, subject: string, extensions: string) => {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(dir, 'req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  signed('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed('client', '/CN=tls-client', 'extendedKeyUsage=clientAuth\n');
  signed('other', '/CN=other-client', 'extendedKeyUsage=clientAuth\n');
  openssl(dir, 'req', '-x509', ...ec, '-keyout', 'self.key', '-out', 'self.crt', '-subj', '/CN=self-signed-client', '-days', '2');
  openssl(dir, 'req', '-x509', ...ec, '-keyout', 'impostor.key', '-out', 'impostor.crt', '-subj', '/CN=tls-client', '-days', '2');
  const pem = (name: string): Pem => ({ cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') });
  return {
    ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    server: pem('server'),
    client: pem('client'),
    selfSigned: pem('self'),
    other: pem('other'),
    impostor: pem('impostor'),
  };
}
