// A fleet of four worker processes (test/helpers/redis-worker.ts), each a Session on the same
// RedisCookieStore namespace and sharedToken key, against a real redis-server and a real HTTP
// server on 127.0.0.1: one login is everyone's login, one logout everyone's logout, and a hundred
// concurrent 401s across the fleet refresh the token once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { REDIS_SKIP, startRedis, type RedisServer } from './helpers/redis.ts';

const WORKER = path.join(import.meta.dirname, 'helpers', 'redis-worker.ts');

interface Result {
  status: number;
  body: string;
  code?: string;
}

class Worker {
  #child: ChildProcess;
  #next = 0;
  #waiting = new Map<number, (m: { results?: Result[] }) => void>();
  ready: Promise<void>;
  constructor(config: object) {
    this.#child = fork(WORKER, [JSON.stringify(config)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve, reject) => {
      this.#child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
      this.#child.on('message', (m: { ready?: boolean; id?: number; results?: Result[] }) => {
        if (m.ready) return resolve();
        this.#waiting.get(m.id!)?.(m);
        this.#waiting.delete(m.id!);
      });
    });
  }
  #ask(msg: object): Promise<{ results?: Result[] }> {
    const id = ++this.#next;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.#child.send({ ...msg, id });
    });
  }
  async fetch(url: string, options: { method?: string; n?: number } = {}): Promise<Result[]> {
    return (await this.#ask({ cmd: 'fetch', url, ...options })).results!;
  }
  async close(): Promise<void> {
    const exited = new Promise((r) => this.#child.once('exit', r));
    await this.#ask({ cmd: 'close' });
    await exited;
  }
  kill(): void {
    this.#child.kill('SIGKILL');
  }
}

describe('a fleet of four workers on one Redis', { skip: REDIS_SKIP }, () => {
  let redis: RedisServer;
  let server: http.Server;
  let base: string;
  const workers: Worker[] = [];
  /** The server's side: sessions it issued, the bearer token it accepts, and what it received. */
  const sessions = new Set<string>();
  let validToken: string | undefined;
  const tokenFetches: string[] = [];
  const received: { path: string; cookie?: string; authorization?: string }[] = [];

  before(async () => {
    redis = await startRedis();
    server = http.createServer((req, res) => {
      const p = req.url!;
      received.push({ path: p, cookie: req.headers.cookie, authorization: req.headers.authorization });
      const sid = /(?:^|; )sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
      if (p === '/login' && req.method === 'POST') {
        const id = randomBytes(8).toString('hex');
        sessions.add(id);
        res.writeHead(303, { location: '/me', 'set-cookie': `sid=${id}; Path=/; HttpOnly` });
        return void res.end();
      }
      if (p === '/logout' && req.method === 'POST') {
        if (sid) sessions.delete(sid);
        res.writeHead(303, { location: '/me', 'set-cookie': 'sid=; Path=/; Max-Age=0' });
        return void res.end();
      }
      if (p === '/me') {
        const ok = sid !== undefined && sessions.has(sid);
        // 403, not 401: a 401 would ask the bearer token for a refresh.
        res.writeHead(ok ? 200 : 403);
        return void res.end(ok ? `session ${sid}` : 'not logged in');
      }
      if (p === '/token' && req.method === 'POST') {
        validToken = randomBytes(8).toString('hex');
        tokenFetches.push(String(req.headers['x-worker']));
        return void res.end(validToken);
      }
      if (p === '/api') {
        const ok = validToken !== undefined && req.headers.authorization === `Bearer ${validToken}`;
        res.writeHead(ok ? 200 : 401, ok ? {} : { 'www-authenticate': 'Bearer error="invalid_token"' });
        return void res.end(ok ? 'ok' : 'bad token');
      }
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const config = { redis: redis.url, namespace: `fleet-${process.pid}`, tokenKey: `fleet-token-${process.pid}`, tokenUrl: `${base}/token`, scope: base };
    for (let i = 0; i < 4; i++) workers.push(new Worker(config));
    await Promise.all(workers.map((w) => w.ready));
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.close().catch(() => w.kill())));
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await redis?.stop();
  });

  test('one worker logs in and the other three are let in with its session; one logs out and all four are out', async () => {
    const [w0, w1, w2, w3] = workers as [Worker, Worker, Worker, Worker];
    const [login] = await w0.fetch(`${base}/login`, { method: 'POST' });
    assert.equal(login!.status, 200);
    const sid = /^session (\w+)$/.exec(login!.body)?.[1];
    assert.ok(sid);
    assert.equal(sessions.size, 1);

    const start = received.length;
    const others = await Promise.all([w1, w2, w3].map((w) => w.fetch(`${base}/me`)));
    assert.deepStrictEqual(
      others.map(([r]) => r!.body),
      [`session ${sid}`, `session ${sid}`, `session ${sid}`],
    );
    assert.deepStrictEqual(
      received.slice(start).map((r) => r.cookie),
      [`sid=${sid}`, `sid=${sid}`, `sid=${sid}`],
      'the server received the one session cookie from each worker',
    );
    assert.equal(sessions.size, 1, 'nobody logged in again');

    const [logout] = await w2.fetch(`${base}/logout`, { method: 'POST' });
    assert.equal(logout!.status, 403);
    const afterLogout = received.length;
    const all = await Promise.all([w0, w1, w2, w3].map((w) => w.fetch(`${base}/me`)));
    assert.deepStrictEqual(
      all.map(([r]) => r!.status),
      [403, 403, 403, 403],
    );
    assert.deepStrictEqual(
      received.slice(afterLogout).map((r) => r.cookie),
      [undefined, undefined, undefined, undefined],
      'no worker sent the deleted cookie',
    );
  });

  test('a hundred concurrent 401s across four workers refresh the shared token once', async () => {
    // Everyone has a token first (fetched once for the whole fleet).
    const warm = await Promise.all(workers.map((w) => w.fetch(`${base}/api`)));
    assert.deepStrictEqual(
      warm.map(([r]) => r!.status),
      [200, 200, 200, 200],
    );
    assert.equal(tokenFetches.length, 1, 'the first token was fetched by one worker for all (at its first request)');
    // The server revokes it: every request the fleet makes now gets a 401 first.
    validToken = randomBytes(8).toString('hex');
    const before = tokenFetches.length;
    const results = (await Promise.all(workers.map((w) => w.fetch(`${base}/api`, { n: 25 })))).flat();
    assert.equal(results.length, 100);
    assert.deepStrictEqual(
      results.filter((r) => r.status !== 200),
      [],
      `every request succeeded after the refresh (token fetches by ${tokenFetches.slice(before).join(', ')})`,
    );
    assert.equal(tokenFetches.length - before, 1, `one refresh for the fleet (fetched by ${tokenFetches.slice(before).join(', ')})`);
    const rejected = received.filter((r) => r.path === '/api' && r.authorization !== `Bearer ${validToken}`).length;
    assert.ok(rejected >= 100, 'all hundred were refused once');
  });
});
