import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Certificates made at test time with `openssl`, in a temporary directory: a CA, and certificates it
 * signs for a server (127.0.0.1) or a client. Paths, as Relay's MESH_* settings name files.
 */
export interface TestCa {
  dir: string;
  /** The CA's own certificate (PEM): what MESH_CA_FILE or a server's `ca` names. */
  cert: string;
  /** A key and a certificate this CA signs, valid for `days`; `server` adds 127.0.0.1 as its address. */
  issue(name: string, options?: { days?: number; server?: boolean }): { cert: string; key: string };
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A new CA named `name`, its files in a temporary directory of their own. */
export function createTestCa(name: string): TestCa {
  const dir = mkdtempSync(join(tmpdir(), `relay-ca-${name}-`));
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.pem');
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      caKey,
      '-out',
      caCert,
      '-days',
      '365',
      '-subj',
      `/CN=${name} test CA`,
    ],
    dir,
  );
  return {
    dir,
    cert: caCert,
    issue(leaf, { days = 365, server = false } = {}) {
      const key = join(dir, `${leaf}.key`);
      const csr = join(dir, `${leaf}.csr`);
      const cert = join(dir, `${leaf}.pem`);
      const ext = join(dir, `${leaf}.ext`);
      writeFileSync(
        ext,
        server
          ? 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
          : 'extendedKeyUsage=clientAuth\n',
      );
      openssl(
        ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${leaf}`],
        dir,
      );
      openssl(
        [
          'x509',
          '-req',
          '-in',
          csr,
          '-CA',
          caCert,
          '-CAkey',
          caKey,
          '-CAcreateserial',
          '-days',
          String(days),
          '-extfile',
          ext,
          '-out',
          cert,
        ],
        dir,
      );
      return { cert, key };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
