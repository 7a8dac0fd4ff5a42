import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Throw-away TLS material for the transport-security specs, made with openssl at test
// time: a private CA and a server certificate it signed for 127.0.0.1 / localhost.

export interface TestCertificates {
  /** PEM of the CA that signed the server certificate (what clients trust). */
  caFile: string;
  /** PEM of another CA, which did not sign it (clients trusting it must refuse the server). */
  otherCaFile: string;
  certFile: string;
  /** Unencrypted PKCS#8 PEM key of the server certificate. */
  keyFile: string;
  /** Key and certificate chain in one PEM file (Kafka's `ssl.keystore.type=PEM`). */
  keystoreFile: string;
}

const openssl = (args: string[], cwd: string): void => {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
};

function selfSignedCa(dir: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`], dir);
}

export function createTestCertificates(dir: string): TestCertificates {
  selfSignedCa(dir, 'test-ca');
  selfSignedCa(dir, 'other-ca');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr'], dir);
  openssl(['x509', '-req', '-sha256', '-days', '2', '-in', 'server.csr', '-CA', 'test-ca.pem', '-CAkey', 'test-ca.key', '-CAcreateserial', '-extfile', 'server.ext', '-out', 'server.crt'], dir);
  const read = (file: string): string => readFileSync(join(dir, file), 'utf8');
  const keystoreFile = join(dir, 'server-keystore.pem');
  writeFileSync(keystoreFile, read('server.key') + read('server.crt'));
  return { caFile: join(dir, 'test-ca.pem'), otherCaFile: join(dir, 'other-ca.pem'), certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key'), keystoreFile };
}
