/**
 * The lab's TLS: one certificate for every lab hostname, signed by a CA generated for this run.
 * Checked with real handshakes (SNI = the logical hostname, the lab's CA as the only trust anchor).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import tls from 'node:tls';
import { startLab, LAB_HOSTS, type Lab } from '../src/lab/index.js';
import { send } from './lab-client.js';

let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(async () => {
  await lab.close();
});

function handshake(servername: string, ca?: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: lab.ports.https, servername, ...(ca ? { ca } : {}) }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.destroy();
      if (cert) resolve(cert);
      else reject(new Error('no peer certificate'));
    });
    socket.on('error', reject);
  });
}

test('the certificate verifies for every lab hostname with the lab CA', async () => {
  assert.ok(LAB_HOSTS.length >= 7);
  for (const host of lab.hosts) {
    const cert = await handshake(host, lab.ca);
    assert.equal(cert.checkHost(host), host);
    assert.ok(cert.checkIssued(new X509Certificate(lab.ca)));
    assert.equal(cert.ca, false);
  }
  // And over HTTP on top, through the connectTo rules.
  const r = await send(lab, 'https://login.hopwise-idp.test/ok');
  assert.equal(r.status, 200);
});

test('without the lab CA the handshake fails; a name outside the certificate fails too', async () => {
  await assert.rejects(handshake('api.hopwise.test'), (err: NodeJS.ErrnoException) => {
    assert.match(String(err.code), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER_CERT/);
    return true;
  });
  await assert.rejects(send(lab, 'https://api.hopwise.test/ok', { ca: null }));
  await assert.rejects(handshake('example.com', lab.ca), (err: NodeJS.ErrnoException) => {
    assert.equal(err.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    return true;
  });
  await assert.rejects(send(lab, 'https://api.hopwise.test/ok', { servername: 'api.hopwise.test.evil.test' }), /altnames|ALTNAME/i);
});

test('the CA is a CA, is short-lived, is written to caPath, and no private key is exposed', async () => {
  const ca = new X509Certificate(lab.ca);
  assert.equal(ca.ca, true);
  assert.match(ca.subject, /hopwise lab CA/);
  assert.ok(Date.parse(ca.validTo) - Date.now() < 30 * 24 * 3600 * 1000, 'short-lived');
  assert.equal(readFileSync(lab.caPath, 'utf8'), lab.ca);
  assert.deepEqual(readdirSync(dirname(lab.caPath)), ['ca.pem']);
  assert.doesNotMatch(lab.ca, /PRIVATE KEY/);
  assert.doesNotMatch(JSON.stringify(lab), /PRIVATE KEY/);
});
