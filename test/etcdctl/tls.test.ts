/**
 * etcdctl over TLS: --ca-file verifies the server, --cert-file/--key-file identify the client.
 * The TLS endpoint is a node:https server (certificates made with openssl for this run) that
 * requires client certificates and forwards to a member of our server over loopback HTTP.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEtcd, type EtcdProcess } from '../support/etcd-process.js';
import { freePort } from '../support/ports.js';
import { etcdctl } from './harness.js';

function makeCertificates(dir: string): void {
  const openssl = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.crt']);
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
  }
}

describe('etcdctl over TLS', { timeout: 120_000 }, () => {
  let member: EtcdProcess;
  let dir: string;
  let server: https.Server;
  let url: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'etcdctl-tls-'));
    makeCertificates(dir);
    member = await startEtcd({ startTimeoutMs: 30_000 });
    server = https.createServer(
      { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')), ca: readFileSync(join(dir, 'ca.crt')), requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', async () => {
          const body = Buffer.concat(chunks);
          const upstream = await fetch(`${member.clientUrl}${req.url ?? '/'}`, {
            method: req.method ?? 'GET',
            headers: { 'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded' },
            ...(body.length > 0 ? { body } : {}),
          });
          const text = (await upstream.text()).replaceAll(member.clientUrl, url);
          const headers: Record<string, string> = {};
          upstream.headers.forEach((value, name) => {
            if (name.startsWith('x-') || name === 'content-type') headers[name] = value;
          });
          res.writeHead(upstream.status, headers).end(text);
        });
      },
    );
    const port = await freePort();
    url = `https://127.0.0.1:${port}`;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await member.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  test('with the CA and a client certificate the commands work', async () => {
    const tls = ['--ca-file', join(dir, 'ca.crt'), '--cert-file', join(dir, 'client.crt'), '--key-file', join(dir, 'client.key')];
    assert.deepEqual(await etcdctl([...tls, '-C', url, 'set', '/tls/k', 'secret']), { code: 0, signal: null, stdout: 'secret\n', stderr: '' });
    assert.deepEqual(await etcdctl(['-C', url, 'get', '/tls/k'], { env: { ETCDCTL_CA_FILE: join(dir, 'ca.crt'), ETCDCTL_CERT_FILE: join(dir, 'client.crt'), ETCDCTL_KEY_FILE: join(dir, 'client.key') } }), {
      code: 0,
      signal: null,
      stdout: 'secret\n',
      stderr: '',
    });
  });

  test('without a client certificate, or without the CA, the cluster cannot be reached (exit 2)', async () => {
    const expected = { code: 2, signal: null, stdout: '', stderr: `Error:  Cannot sync with the cluster using peers ${url}\n` };
    assert.deepEqual(await etcdctl(['--ca-file', join(dir, 'ca.crt'), '-C', url, 'get', '/tls/k']), expected);
    assert.deepEqual(await etcdctl(['--cert-file', join(dir, 'client.crt'), '--key-file', join(dir, 'client.key'), '-C', url, 'get', '/tls/k']), expected);
  });
});
