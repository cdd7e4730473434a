import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './child-process.js';

/** Where the lab's TLS material is, in the layouts Kamailio and Janus's SIP stack (sofia-sip) read. */
export interface LabTlsCerts {
  /** A folder with `agent.pem` (certificate and key) and `cafile.pem`: Janus SIP's `sips_certs_dir`. */
  readonly sofiaDir: string;
  readonly certificate: string;
  readonly privateKey: string;
}

/**
 * A self-signed certificate for SIP over TLS inside the lab (OpenSSL, P-256, valid two days): Kamailio serves it on
 * its TLS listener, Janus's SIP stack presents it and trusts it. Nothing outside the lab's namespace uses it.
 */
export async function makeLabTlsCerts(dir: string): Promise<LabTlsCerts> {
  const sofiaDir = join(dir, 'sofia');
  await mkdir(sofiaDir, { recursive: true });
  const certificate = join(dir, 'cert.pem');
  const privateKey = join(dir, 'key.pem');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', privateKey, '-out', certificate, '-days', '2', '-subj', '/CN=roomline-lab', '-addext', 'subjectAltName=IP:127.0.0.1',
  ]);
  const [cert, key] = await Promise.all([readFile(certificate, 'utf8'), readFile(privateKey, 'utf8')]);
  await Promise.all([writeFile(join(sofiaDir, 'agent.pem'), `${key}${cert}`, { mode: 0o600 }), writeFile(join(sofiaDir, 'cafile.pem'), cert)]);
  return { sofiaDir, certificate, privateKey };
}
