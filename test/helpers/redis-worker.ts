/**
 * One worker process of a fleet test (test/redis-fleet.test.ts): a Session on a RedisCookieStore and
 * a sharedToken, driven by its parent over IPC. Started as `node --import tsx redis-worker.ts CONFIG`.
 *
 * Messages in: { id, cmd: 'fetch', url, method?, n? } → n fetches at once, answered with each one's
 * status, body and error code; { id, cmd: 'close' } → closes everything and exits.
 */
import { RedisCookieStore, sharedToken } from '../../src/redis/index.js';
import { bearer, Session } from '../../src/index.js';

interface Config {
  redis: string;
  namespace: string;
  tokenKey: string;
  tokenUrl: string;
  scope: string;
}

const config = JSON.parse(process.argv[2]!) as Config;
const store = new RedisCookieStore({ url: config.redis, namespace: config.namespace });
const token = sharedToken({
  url: config.redis,
  key: config.tokenKey,
  ttlMs: 60_000,
  fetch: async () => {
    const res = await fetch(config.tokenUrl, { method: 'POST', headers: { 'x-worker': String(process.pid) } });
    return await res.text();
  },
});
const session = new Session({ cookies: store, auth: [bearer(token, { scope: config.scope })] });

type Message = { id: number; cmd: 'fetch'; url: string; method?: string; n?: number } | { id: number; cmd: 'close' };

process.on('message', (m: Message) => {
  void (async () => {
    if (m.cmd === 'close') {
      await session.close();
      await Promise.all([store.close(), token.close()]);
      process.send!({ id: m.id }, () => process.exit(0));
      return;
    }
    const results = await Promise.all(
      Array.from({ length: m.n ?? 1 }, async () => {
        try {
          const res = await session.fetch(m.url, { method: m.method ?? 'GET' });
          return { status: res.status, body: await res.text() };
        } catch (err) {
          return { status: 0, body: '', code: (err as { code?: string }).code ?? String(err) };
        }
      }),
    );
    process.send!({ id: m.id, results });
  })();
});
process.send!({ ready: true });
