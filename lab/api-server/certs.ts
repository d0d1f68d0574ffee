// A throwaway CA and a serving certificate for 127.0.0.1/localhost, made with the openssl CLI
// (argument arrays, no shell) so kubectl and client-node verify TLS for real.

import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServingCertificates {
  caCertPem: string;
  certPem: string;
  keyPem: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function generateCertificates(pkiDir: string): Promise<ServingCertificates> {
  await mkdir(pkiDir, { recursive: true, mode: 0o700 });
  const p = (name: string): string => join(pkiDir, name);
  await run('openssl', [
    'req', '-x509', ...EC_KEY, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '3650', '-subj', '/CN=netdiag-lab-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run('openssl', ['req', ...EC_KEY, '-keyout', p('apiserver.key'), '-out', p('apiserver.csr'), '-subj', '/CN=kube-apiserver']);
  await writeFile(p('apiserver.ext'), [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '',
  ].join('\n'));
  await run('openssl', [
    'x509', '-req', '-in', p('apiserver.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-out', p('apiserver.crt'), '-days', '3650', '-extfile', p('apiserver.ext'),
  ]);
  const [caCertPem, certPem, keyPem] = await Promise.all([readFile(p('ca.crt'), 'utf8'), readFile(p('apiserver.crt'), 'utf8'), readFile(p('apiserver.key'), 'utf8')]);
  return { caCertPem, certPem, keyPem };
}

export const LAB_CLUSTER_NAME = 'netdiag-lab';
export const LAB_USER_NAME = 'netdiag-lab-admin';

export function buildKubeconfig(serverUrl: string, caCertPem: string, token: string): string {
  const ca = Buffer.from(caCertPem).toString('base64');
  // Plain YAML by hand: every value is a token, base64 or a URL, none needs quoting.
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${ca}`,
    `    server: ${serverUrl}`,
    `  name: ${LAB_CLUSTER_NAME}`,
    'contexts:',
    '- context:',
    `    cluster: ${LAB_CLUSTER_NAME}`,
    `    user: ${LAB_USER_NAME}`,
    '    namespace: default',
    `  name: ${LAB_CLUSTER_NAME}`,
    `current-context: ${LAB_CLUSTER_NAME}`,
    'preferences: {}',
    'users:',
    `- name: ${LAB_USER_NAME}`,
    '  user:',
    `    token: ${token}`,
    '',
  ].join('\n');
}
