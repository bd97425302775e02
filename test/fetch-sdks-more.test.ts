/**
 * More SDKs on session.fetch, each given it the way its docs say, against a local server that answers
 * like the real API for a few calls: the SDK's real hostname (api.openai.com, api.anthropic.com) reached
 * through `connectTo`, over TLS with the run's throwaway CA. Each test asserts on what the server
 * received (the SDK's auth header, the body) and on what the SDK returned: a JSON call, a streamed
 * (SSE) answer, an error status mapped to the SDK's own error type, a 429 with a retry hint the SDK
 * retries, an abort, and a same-origin redirect in the middle (so hopwise's rules run: the credential
 * is kept, the cookie the redirect set is sent).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import Anthropic from '@anthropic-ai/sdk';
import { ClientError, GraphQLClient } from 'graphql-request';
import OpenAI, { toFile } from 'openai';
import createClient from 'openapi-fetch';
import { HopwiseResponse, Session } from '../src/index.ts';
import { testCertificates } from './helpers/servers.ts';

interface Got {
  host: string;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const received: Got[] = [];
let server: https.Server;
let connectTo: string[];
let ca: string;
const sockets = new Set<Socket>();
/** 429s still to answer, per path: the retry tests count down. */
const limited = new Map<string, number>();

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * The streaming tests' gate: the server sends the first event, then holds the rest until the client
 * saw that event (or 1 s went by). The timeline says which came first: a body buffered to its end
 * before the SDK sees it would put the server's 'rest' before the client's 'first'.
 */
let gate: { opened: Promise<void> } | undefined;
const timeline: string[] = [];
function armGate(): () => void {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  gate = { opened };
  timeline.length = 0;
  return () => (timeline.push('client: first'), open());
}

/** Server-sent events, gzip-encoded when the request says x-test-gzip (each event flushed), held after the first by the gate. */
async function sse(req: http.IncomingMessage, res: http.ServerResponse, events: [string | undefined, unknown][]): Promise<void> {
  const gzip = req.headers['x-test-gzip'] === '1';
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
  const gz = gzip ? zlib.createGzip() : undefined;
  gz?.pipe(res);
  const held = gate;
  gate = undefined;
  for (const [i, [event, data]] of events.entries()) {
    const line = `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
    if (gz) gz.write(line, () => gz.flush());
    else res.write(line);
    if (i === 0 && held) {
      await Promise.race([held.opened, sleep(1000)]);
      timeline.push('server: rest');
    }
  }
  if (gz) gz.end();
  else res.end();
}

/** The Anthropic SDK sends its key as x-api-key (older releases) or as a Bearer token (1.x). */
const anthropicKey = (h: http.IncomingHttpHeaders): string | undefined => (typeof h['x-api-key'] === 'string' ? h['x-api-key'] : h.authorization?.replace(/^Bearer /, ''));

async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
  const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
  const path = req.url!;
  const left = limited.get(`${host}${path}`);
  if (left) {
    limited.set(`${host}${path}`, left - 1);
    return json(res, 429, { error: { message: 'slow down', type: 'rate_limit_error' } }, { 'retry-after-ms': '10', 'retry-after': '0' });
  }
  if (path.includes('/stall')) return; // never answers: the abort tests
  if (host === 'api.openai.com') {
    if (path === '/v1/models') {
      res.writeHead(307, { location: '/v1/models-eu', 'set-cookie': 'region=eu; Path=/' });
      return void res.end();
    }
    // A file download answered by a redirect to a storage origin (as signed-URL downloads are): the key must not follow.
    if (path === '/v1/files' && req.method === 'POST') return json(res, 200, { id: 'file-1', object: 'file', bytes: 8, created_at: 1, filename: 'a.jsonl', purpose: 'batch', status: 'processed' });
    if (path === '/v1/files/file-1/content') {
      res.writeHead(302, { location: 'https://api.example.com/storage/file-1?sig=abc' });
      return void res.end();
    }
    if (path === '/v1/models-eu') return json(res, 200, { object: 'list', data: [{ id: 'gpt-test', object: 'model', created: 1, owned_by: 'test' }] });
    if (path === '/v1/chat/completions') {
      if (req.headers.authorization !== 'Bearer sk-test') return json(res, 401, { error: { message: 'Incorrect API key', type: 'invalid_request_error', code: 'invalid_api_key' } });
      const parsed = JSON.parse(body) as { stream?: boolean };
      if (parsed.stream) {
        const chunk = (content: string, finish: string | null) => ({
          id: 'c1',
          object: 'chat.completion.chunk',
          created: 1,
          model: 'gpt-test',
          choices: [{ index: 0, delta: { content }, finish_reason: finish }],
        });
        return sse(req, res, [
          [undefined, chunk('Hel', null)],
          [undefined, chunk('lo', null)],
          [undefined, chunk('!', 'stop')],
          [undefined, '[DONE]'],
        ]);
      }
      return json(res, 200, {
        id: 'c1',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-test',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
      });
    }
  }
  if (host === 'api.anthropic.com' && path === '/v1/messages') {
    if (anthropicKey(req.headers) !== 'sk-ant-test') return json(res, 401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
    const parsed = JSON.parse(body) as { stream?: boolean; max_tokens: number };
    if (parsed.max_tokens > 4096) return json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens too large' } });
    const message = {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-test',
      content: [] as unknown[],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 3, output_tokens: 0 },
    };
    if (parsed.stream)
      return sse(req, res, [
        ['message_start', { type: 'message_start', message }],
        ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
        ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } }],
        ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'lo' } }],
        ['content_block_stop', { type: 'content_block_stop', index: 0 }],
        ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 2 } }],
        ['message_stop', { type: 'message_stop' }],
      ]);
    return json(res, 200, { ...message, content: [{ type: 'text', text: 'Hello' }], stop_reason: 'end_turn', usage: { input_tokens: 3, output_tokens: 1 } });
  }
  if (host === 'api.example.com') {
    if (path === '/graphql-old') {
      res.writeHead(308, { location: '/graphql', 'set-cookie': 'sid=g1; Path=/' });
      return void res.end();
    }
    if (path === '/graphql') {
      const { query, variables } = JSON.parse(body) as { query: string; variables?: { id?: string } };
      if (query.includes('broken')) return json(res, 200, { data: null, errors: [{ message: 'Cannot query field "broken" on type "Query".' }] });
      return json(res, 200, { data: { user: { id: variables?.id, name: 'Ann' } } });
    }
    if (path === '/v2/pets/1') {
      res.writeHead(301, { location: '/v3/pets/1', 'set-cookie': 'sid=p1; Path=/' });
      return void res.end();
    }
    if (path === '/storage/file-1?sig=abc') {
      res.writeHead(200, { 'content-type': 'application/jsonl' });
      return void res.end('{"a":1}\n');
    }
    if (path === '/v3/pets/1') return json(res, 200, { id: 1, name: 'Rex' });
    if (path === '/v3/pets/404') return json(res, 404, { message: 'no such pet' });
    if (path === '/v2/pets' && req.method === 'POST') {
      res.writeHead(307, { location: '/v3/pets' });
      return void res.end();
    }
    if (path === '/v3/pets' && req.method === 'POST') return json(res, 201, { id: 2, ...(JSON.parse(body) as object) });
  }
  json(res, 404, { error: { message: `no route ${req.method} ${host}${path}` } });
}

before(async () => {
  // The run's shared test certificate (it names api.openai.com and api.anthropic.com too).
  const tls = await testCertificates();
  ca = tls.caCert;
  server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ host: String(req.headers.host ?? '').replace(/:\d+$/, ''), method: req.method!, path: req.url!, headers: req.headers, body });
      handle(req, res, body).catch((err: unknown) => json(res, 500, { error: { message: String(err) } }));
    });
  });
  server.on('secureConnection', (sock: Socket) => (sockets.add(sock), sock.on('close', () => sockets.delete(sock))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  connectTo = [`:443:127.0.0.1:${(server.address() as AddressInfo).port}`];
});
after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

/** hopwise's own retries off: each test counts the SDK's. */
const session = () => new Session({ connectTo, ca, retry: false });
const since = () => received.length;

/** The filter docs/session.md gives for wrappers that pass their own keys on to fetch (graphql-request: errorPolicy, jsonSerializer). */
const INIT = new Set(['method', 'headers', 'body', 'signal', 'redirect', 'duplex', 'dispatcher']);
const initOnly =
  (s: Session): typeof fetch =>
  (input, init = {}) =>
    s.fetch(input, Object.fromEntries(Object.entries(init).filter(([k]) => INIT.has(k))));

/** An abort by AbortSignal.timeout(): hopwise names every abort AbortError (docs/fetch-deviations.md), with code ERR_ABORTED. */
const isAbort = (err: unknown): boolean => (assert.equal((err as Error).name, 'AbortError'), assert.equal((err as { code?: string }).code, 'ERR_ABORTED'), true);

describe('more SDKs on session.fetch', () => {
  it('openai: a JSON call, a streamed completion (plain and gzip), a 401 as AuthenticationError, a 429 retried, a timeout, redirects, an upload', async () => {
    const s = session();
    const client = new OpenAI({ apiKey: 'sk-test', fetch: s.fetch, maxRetries: 1 });

    let from = since();
    const done = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(done.choices[0]!.message.content, 'Hello!');
    let got = received.slice(from);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.headers.authorization, 'Bearer sk-test');
    assert.equal(got[0]!.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(got[0]!.body), { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });

    for (const gzip of [false, true]) {
      const sawFirst = armGate();
      const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true }, { headers: gzip ? { 'x-test-gzip': '1' } : {} });
      const parts: string[] = [];
      for await (const chunk of stream) if (parts.push(chunk.choices[0]?.delta.content ?? '') === 1) sawFirst();
      assert.deepEqual(parts, ['Hel', 'lo', '!'], gzip ? 'gzip' : 'plain');
      assert.deepEqual(timeline, ['client: first', 'server: rest'], `the first chunk reached the SDK before the server sent the rest (${gzip ? 'gzip' : 'plain'})`);
    }

    const bad = new OpenAI({ apiKey: 'sk-wrong', fetch: s.fetch, maxRetries: 0 });
    await assert.rejects(bad.chat.completions.create({ model: 'gpt-test', messages: [] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
      assert.equal(err.status, 401);
      assert.equal(err.code, 'invalid_api_key');
      return true;
    });

    from = since();
    limited.set('api.openai.com/v1/chat/completions', 1);
    const retried = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'again' }] });
    assert.equal(retried.choices[0]!.message.content, 'Hello!');
    got = received.slice(from);
    assert.deepEqual(
      got.map((g) => g.headers['x-stainless-retry-count']),
      ['0', '1'],
    );
    assert.equal(got[1]!.body, got[0]!.body);

    await assert.rejects(client.chat.completions.create({ model: 'gpt-test', messages: [] }, { path: '/stall', timeout: 100, maxRetries: 0 } as never), OpenAI.APIConnectionTimeoutError);

    from = since();
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ['gpt-test'],
    );
    got = received.slice(from);
    assert.deepEqual(
      got.map((g) => g.path),
      ['/v1/models', '/v1/models-eu'],
    );
    assert.equal(got[1]!.headers.authorization, 'Bearer sk-test');
    assert.equal(got[1]!.headers.cookie, 'region=eu');

    from = since();
    const file = await client.files.create({ file: await toFile(Buffer.from('{"a":1}\n'), 'a.jsonl'), purpose: 'batch' });
    assert.equal(file.id, 'file-1');
    got = received.slice(from);
    assert.match(String(got[0]!.headers['content-type']), /^multipart\/form-data; boundary=/);
    assert.match(got[0]!.body, /name="file"; filename="a.jsonl"\r\n.*\r\n\r\n\{"a":1\}\n\r\n/);
    assert.match(got[0]!.body, /name="purpose"\r\n\r\nbatch\r\n/);

    from = since();
    const content = await client.files.content('file-1');
    assert.equal(await content.text(), '{"a":1}\n');
    got = received.slice(from);
    assert.deepEqual(
      got.map((g) => `${g.host}${g.path}`),
      ['api.openai.com/v1/files/file-1/content', 'api.example.com/storage/file-1?sig=abc'],
    );
    assert.equal(got[0]!.headers.authorization, 'Bearer sk-test');
    assert.equal(got[1]!.headers.authorization, undefined);
    assert.equal(got[1]!.headers.cookie, undefined);
    assert.ok(content instanceof HopwiseResponse);
    const stripped = content.hops[1]!.decisions.find((d) => d.subject === 'header' && d.name === 'authorization');
    assert.deepEqual(stripped && [stripped.action, stripped.reason], ['stripped', 'cross-origin']);
    await s.close();
  });

  it('@anthropic-ai/sdk: a JSON call, a streamed message, a 400 as BadRequestError, a 429 retried, an abort', async () => {
    const s = session();
    const client = new Anthropic({ apiKey: 'sk-ant-test', fetch: s.fetch, maxRetries: 1 });

    let from = since();
    const msg = await client.messages.create({ model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    assert.deepEqual(msg.content, [{ type: 'text', text: 'Hello' }]);
    let got = received.slice(from);
    assert.equal(got.length, 1);
    assert.equal(anthropicKey(got[0]!.headers), 'sk-ant-test');
    assert.ok(got[0]!.headers['anthropic-version']);
    assert.deepEqual(JSON.parse(got[0]!.body), { model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });

    const texts: string[] = [];
    const sawFirst = armGate();
    const stream = client.messages.stream({ model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }).on('streamEvent', () => {
      if (timeline.length === 0) sawFirst();
    });
    stream.on('text', (t) => texts.push(t));
    const final = await stream.finalMessage();
    assert.deepEqual(texts, ['Hel', 'lo']);
    const block = final.content[0];
    assert.equal(block?.type === 'text' ? block.text : block?.type, 'Hello');
    assert.equal(final.stop_reason, 'end_turn');
    assert.deepEqual(timeline, ['client: first', 'server: rest']);

    await assert.rejects(client.messages.create({ model: 'claude-test', max_tokens: 5000, messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => {
      assert.ok(err instanceof Anthropic.BadRequestError, String(err));
      assert.equal(err.status, 400);
      return true;
    });

    from = since();
    limited.set('api.anthropic.com/v1/messages', 1);
    await client.messages.create({ model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'again' }] });
    got = received.slice(from);
    assert.deepEqual(
      got.map((g) => g.headers['x-stainless-retry-count']),
      ['0', '1'],
    );

    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(client.messages.create({ model: 'claude-test', max_tokens: 16, messages: [] }, { path: '/v1/stall', signal: ac.signal, maxRetries: 0 } as never), Anthropic.APIUserAbortError);
    await s.close();
  });

  it('graphql-request: a query with variables through a 308, a GraphQL error as ClientError, an abort', async () => {
    const s = session();
    const client = new GraphQLClient('https://api.example.com/graphql-old', { fetch: initOnly(s), headers: { authorization: 'Bearer gql-token' } });
    const from = since();
    const data = await client.request<{ user: { id: string; name: string } }>('query User($id: ID!) { user(id: $id) { id name } }', { id: 'u1' });
    assert.deepEqual(data, { user: { id: 'u1', name: 'Ann' } });
    const got = received.slice(from);
    assert.deepEqual(
      got.map((g) => `${g.method} ${g.path}`),
      ['POST /graphql-old', 'POST /graphql'],
    );
    assert.equal(got[1]!.headers.authorization, 'Bearer gql-token');
    assert.equal(got[1]!.headers.cookie, 'sid=g1');
    assert.deepEqual(JSON.parse(got[1]!.body), { query: 'query User($id: ID!) { user(id: $id) { id name } }', variables: { id: 'u1' }, operationName: 'User' });

    await assert.rejects(client.request('{ broken }'), (err: unknown) => {
      assert.ok(err instanceof ClientError, String(err));
      assert.equal(err.response.errors?.[0]?.message, 'Cannot query field "broken" on type "Query".');
      return true;
    });

    const stalled = new GraphQLClient('https://api.example.com/stall', { fetch: initOnly(s), signal: AbortSignal.timeout(100) });
    await assert.rejects(stalled.request('{ user { id } }'), isAbort);
    await s.close();
  });

  it('openapi-fetch: a GET through a 301, a POST with a JSON body through a 307, a 404 as { error }, an abort', async () => {
    const s = session();
    // No generated schema here: paths typed loosely.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const client = createClient<any>({ baseUrl: 'https://api.example.com', fetch: s.fetch, headers: { authorization: 'Bearer oa-token' } });
    let from = since();
    const pet = await client.GET('/v2/pets/{id}', { params: { path: { id: 1 } } });
    assert.deepEqual(pet.data, { id: 1, name: 'Rex' });
    assert.equal(pet.response.url, 'https://api.example.com/v3/pets/1');
    let got = received.slice(from);
    assert.deepEqual(
      got.map((g) => g.path),
      ['/v2/pets/1', '/v3/pets/1'],
    );
    assert.equal(got[1]!.headers.authorization, 'Bearer oa-token');
    assert.equal(got[1]!.headers.cookie, 'sid=p1');

    from = since();
    // openapi-fetch sends a Request whose body is a stream: hopwise keeps it as sent, so the 307 can send it again.
    const created = await client.POST('/v2/pets', { body: { name: 'Fido' } });
    assert.equal(created.response.status, 201);
    assert.deepEqual(created.data, { id: 2, name: 'Fido' });
    got = received.slice(from);
    assert.deepEqual(
      got.map((g) => `${g.method} ${g.path}`),
      ['POST /v2/pets', 'POST /v3/pets'],
    );
    for (const g of got) {
      assert.equal(g.headers['content-type'], 'application/json');
      assert.equal(g.headers.authorization, 'Bearer oa-token');
      assert.deepEqual(JSON.parse(g.body), { name: 'Fido' });
    }

    const missing = await client.GET('/v3/pets/{id}', { params: { path: { id: 404 } } });
    assert.equal(missing.response.status, 404);
    assert.deepEqual(missing.error, { message: 'no such pet' });

    await assert.rejects(client.GET('/stall', { signal: AbortSignal.timeout(100) }), isAbort);
    await s.close();
  });
});
