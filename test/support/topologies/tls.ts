/**
 * A private CA and a server certificate for 127.0.0.1/localhost, made with the machine's openssl
 * in a topology's temp dir: what a `rediss://` deployment needs, without a fixture key in the repo.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsMaterial {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The CA certificate (PEM), for clients' `tls.ca`. */
  ca: Buffer;
}

const VALID_DAYS = '2';
// EC keys: generated in milliseconds, where RSA 2048 takes a noticeable share of a test's budget.
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function generateTls(dir: string): TlsMaterial {
  const file = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const days = ['-days', VALID_DAYS];
  openssl([
    'req',
    '-x509',
    ...EC_KEY,
    ...days,
    '-subj',
    '/CN=auth-service test CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
  ]);
  openssl([
    'req',
    '-new',
    ...EC_KEY,
    '-subj',
    '/CN=localhost',
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
  ]);
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  const signedByCa = [
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-extfile',
    file('server.ext'),
  ];
  openssl(['x509', '-req', ...days, ...signedByCa, '-in', file('server.csr'), '-out', file('server.crt')]);
  return {
    caFile: file('ca.crt'),
    certFile: file('server.crt'),
    keyFile: file('server.key'),
    ca: readFileSync(file('ca.crt')),
  };
}
