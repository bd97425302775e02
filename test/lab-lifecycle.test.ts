/**
 * Starting and stopping labs: two at once (port 0, separate state and CAs), close() frees the ports,
 * removes the CA file, ends keep-alive connections, and leaves nothing that keeps a process alive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { startLab } from '../src/lab/index.js';
import { send } from './lab-client.js';

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

function listenOn(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
  });
}

test('two labs run at once, each with its own ports, CA and records; close() frees everything', async () => {
  const a = await startLab();
  const b = await startLab({ host: '0.0.0.0' });
  let closed = false;
  try {
    const all = [...Object.values(a.ports), ...Object.values(b.ports)];
    assert.equal(new Set(all).size, 6);
    assert.deepEqual(b.connectTo, [`:80:127.0.0.1:${b.ports.http}`, `:443:127.0.0.1:${b.ports.https}`, `:8080:127.0.0.1:${b.ports.alt}`]);
    assert.notEqual(a.ca, b.ca);
    assert.notEqual(a.caPath, b.caPath);
    // Each lab's certificate verifies only with its own CA.
    await assert.rejects(send({ connectTo: a.connectTo, ca: b.ca }, 'https://api.hopwise.test/ok'));
    assert.equal((await send(b, 'https://api.hopwise.test/ok')).status, 200);

    assert.equal((await send(a, a.url('login-session'))).status, 302);
    assert.equal(a.received('login-session').length, 1);
    assert.equal(b.received('login-session').length, 0);

    // An idle keep-alive connection must not hold close() open (Node would wait for its timeout).
    const agent = new http.Agent({ keepAlive: true });
    assert.equal((await send(a, 'http://app.hopwise.test/ok', { agent })).status, 200);
    assert.equal(Object.values(agent.freeSockets).flat().length, 1);
    const t0 = Date.now();
    await a.close();
    await a.close(); // idempotent
    assert.ok(Date.now() - t0 < 1000, `close() took ${Date.now() - t0} ms`);
    agent.destroy();

    for (const port of Object.values(a.ports)) {
      assert.equal(await refused(port), true, `port ${port} refuses after close()`);
      await listenOn(port); // and is free to bind again
    }
    assert.equal(existsSync(a.caPath), false, 'the CA file is removed');
    // The other lab is unaffected.
    assert.equal((await send(b, 'http://api.hopwise.test:8080/ok')).status, 200);
    await b.close();
    closed = true;
  } finally {
    if (!closed) await Promise.all([a.close(), b.close()]);
  }
});

test('a process that starts a lab, uses it over keep-alive and closes it exits on its own', async () => {
  const labUrl = new URL('../src/lab/index.ts', import.meta.url).href;
  const clientUrl = new URL('./lab-client.ts', import.meta.url).href;
  const script = `
    import http from 'node:http';
    import https from 'node:https';
    const { startLab } = await import(${JSON.stringify(labUrl)});
    const { send } = await import(${JSON.stringify(clientUrl)});
    const lab = await startLab();
    const agent = new http.Agent({ keepAlive: true });
    const tlsAgent = new https.Agent({ keepAlive: true });
    await send(lab, lab.url('round-robin'), { agent: tlsAgent });
    await send(lab, 'http://app.hopwise.test/ok', { agent });
    await lab.close();
    console.log('closed');
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, 20_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.equal(code, 0, `the child did not exit cleanly within 20 s:\n${out}`);
  assert.match(out, /closed/);
});
