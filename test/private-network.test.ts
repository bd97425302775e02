/**
 * The private-network guard (SSRF through redirects), on loopback: `internal: ['127.0.0.2/32']`
 * makes 127.0.0.1 "public" and 127.0.0.2 "private", so real servers on both addresses show what a
 * public → private redirect does, and what the private server received (nothing, when refused).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { diagnose, HopwiseError, Session } from '../src/index.ts';
import { AddressClassifier, embeddedIPv4 } from '../src/transport/addresses.ts';
import type { DecisionOf, Hop } from '../src/trace/types.ts';

interface Recorder {
  port: number;
  received: { host: string; path: string }[];
  close(): Promise<void>;
}

/** A plain server on `address` that records each request, then lets `handler` answer. */
async function serverOn(address: string, handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Recorder> {
  const received: { host: string; path: string }[] = [];
  const server = http.createServer((req, res) => {
    received.push({ host: String(req.headers.host), path: String(req.url) });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, address, r));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function refused(p: Promise<unknown>): Promise<HopwiseError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof HopwiseError, String(err));
    return err;
  }
  assert.fail('expected the fetch to be refused');
}

const addressDecision = (hop: Hop | undefined) => hop?.decisions.find((d): d is DecisionOf<'address'> => d.subject === 'address');

describe('the address classifier', () => {
  const builtIn = new AddressClassifier();
  const table: [string, 'public' | 'private'][] = [
    ['127.0.0.1', 'private'],
    ['2130706433', 'private'], // 127.0.0.1 as one number
    ['0x7f.1', 'private'],
    ['0177.0.0.1', 'private'],
    ['127.1', 'private'],
    ['[::ffff:127.0.0.1]', 'private'], // IPv4-mapped
    ['[::ffff:7f00:1]', 'private'],
    ['[::127.0.0.1]', 'private'], // IPv4-compatible
    ['[64:ff9b::127.0.0.1]', 'private'], // NAT64 of loopback
    ['[2002:7f00:1::]', 'private'], // 6to4 of loopback
    ['[::1]', 'private'],
    ['[::]', 'private'],
    ['0.0.0.0', 'private'],
    ['0', 'private'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'private'], // cloud metadata
    ['[::ffff:169.254.169.254]', 'private'],
    ['0xa9fea9fe', 'private'], // 169.254.169.254 in hex
    ['100.64.0.1', 'private'], // CGNAT
    ['224.0.0.1', 'private'],
    ['255.255.255.255', 'private'],
    ['[fd00::1]', 'private'],
    ['[fe80::1]', 'private'],
    ['[ff02::1]', 'private'],
    ['93.184.215.14', 'public'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['[2606:4700::1111]', 'public'],
    ['[::ffff:8.8.8.8]', 'public'],
    ['[64:ff9b::8.8.8.8]', 'public'],
  ];
  for (const [written, expected] of table) {
    it(`classes http://${written}/ as ${expected} once the URL parser has normalised it`, () => {
      const host = new URL(`http://${written}/`).hostname;
      assert.equal(builtIn.classifyHost(host), expected, `${written} → ${host}`);
    });
  }

  it('classes localhost and *.localhost as loopback without asking DNS, and leaves other names to the connection', () => {
    assert.equal(builtIn.classifyHost('localhost'), 'private');
    assert.equal(builtIn.classifyHost('api.localhost'), 'private');
    assert.equal(builtIn.classifyHost('example.com'), undefined);
  });

  it('finds the IPv4 address inside mapped, compatible, NAT64 and 6to4 forms, and not in ::1', () => {
    assert.equal(embeddedIPv4('::ffff:a9fe:a9fe'), '169.254.169.254');
    assert.equal(embeddedIPv4('::7f00:1'), '127.0.0.1');
    assert.equal(embeddedIPv4('64:ff9b::a00:1'), '10.0.0.1');
    assert.equal(embeddedIPv4('2002:c0a8:101::1'), '192.168.1.1');
    assert.equal(embeddedIPv4('::1'), undefined);
    assert.equal(embeddedIPv4('2001:db8::1'), undefined);
  });

  it('replaces the built-in list with internal, and judges embedded forms against it too', () => {
    const c = new AddressClassifier(['127.0.0.2/32']);
    assert.equal(c.classify('127.0.0.1'), 'public');
    assert.equal(c.classify('127.0.0.2'), 'private');
    assert.equal(c.classify('::ffff:127.0.0.2'), 'private');
    assert.equal(c.classify('10.0.0.1'), 'public');
  });

  it('refuses a malformed range with ERR_INVALID_OPTION naming it', () => {
    assert.throws(
      () => new Session({ privateNetworks: { refuse: 'redirects', internal: ['10.0.0.0/33'] } }),
      (e: HopwiseError) => e.code === 'ERR_INVALID_OPTION' && /10\.0\.0\.0\/33/.test(e.message),
    );
    assert.throws(
      () => new Session({ privateNetworks: 'sometimes' as never }),
      (e: HopwiseError) => e.code === 'ERR_INVALID_OPTION',
    );
    assert.throws(
      () => new Session({ privateNetworks: { refuse: 'redirects', internl: [] } as never }),
      (e: HopwiseError) => e.code === 'ERR_UNKNOWN_OPTION' && /internal/.test(e.message),
    );
  });
});

describe('the private-network guard on real connections', () => {
  let pub: Recorder; // 127.0.0.1: "public" under the test list
  let priv: Recorder; // 127.0.0.2: "private"
  let next = '/';
  const LOOPBACK_AS_PUBLIC = { refuse: 'redirects', internal: ['127.0.0.2/32'] } as const;

  before(async () => {
    priv = await serverOn('127.0.0.2', (req, res) => {
      if (req.url === '/hop' || req.url?.startsWith('/go')) {
        res.writeHead(302, { location: req.url === '/hop' ? '/end' : next });
        res.end();
      } else res.end('private');
    });
    pub = await serverOn('127.0.0.1', (req, res) => {
      if (req.url?.startsWith('/go')) {
        res.writeHead(302, { location: next });
        res.end();
      } else res.end('public');
    });
  });
  after(async () => {
    await pub.close();
    await priv.close();
  });

  const session = (privateNetworks: unknown = LOOPBACK_AS_PUBLIC, extra: object = {}) =>
    new Session({ privateNetworks: privateNetworks as never, connectTo: [`public.test:80:127.0.0.1:${pub.port}`, `internal.test:80:127.0.0.2:${priv.port}`], ...extra });

  it('refuses a redirect from a public address to a private one, sends it nothing, and says which hop, host and address', async () => {
    next = 'http://internal.test/secret';
    const before = priv.received.length;
    const s = session();
    try {
      const err = await refused(s.fetch('http://public.test/go'));
      assert.equal(err.code, 'ERR_PRIVATE_ADDRESS');
      assert.match(err.message, /internal\.test/);
      assert.match(err.message, /127\.0\.0\.2/);
      assert.match(err.message, /hop 1/);
      assert.equal(priv.received.length, before, 'the private server received nothing');
      assert.equal(err.hops.length, 2);
      assert.equal(err.hops[0]!.addressClass, 'public');
      assert.equal(err.hops[0]!.remoteAddress, '127.0.0.1');
      const d = addressDecision(err.hops[1]);
      assert.equal(d?.reason, 'private-address');
      assert.equal(d?.action, 'refused');
      assert.deepEqual(d?.facts, { host: 'internal.test', address: '127.0.0.2', refuse: 'redirects', fromClass: 'public', customList: true });
      assert.equal(err.hops[1]!.error?.code, 'ERR_PRIVATE_ADDRESS');
      const findings = diagnose(err.hops, err);
      assert.deepEqual(
        findings.map((f) => [f.code, f.hop]),
        [['private-address-refused', 1]],
      );
      assert.match(findings[0]!.title, /public address led to internal\.test at 127\.0\.0\.2/);
    } finally {
      await s.close();
    }
  });

  it('refuses the same redirect written as an IP literal in another form (2130706434 is 127.0.0.2)', async () => {
    next = `http://2130706434:${priv.port}/secret`;
    const before = priv.received.length;
    const s = session();
    try {
      const err = await refused(s.fetch('http://public.test/go'));
      assert.equal(err.code, 'ERR_PRIVATE_ADDRESS');
      assert.equal(priv.received.length, before);
      assert.equal(addressDecision(err.hops[1])?.facts.address, '127.0.0.2');
    } finally {
      await s.close();
    }
  });

  it('follows a redirect from a private address to a private one (a chain that starts inside may stay inside)', async () => {
    const s = session();
    try {
      const res = await s.fetch('http://internal.test/hop');
      assert.equal(await res.text(), 'private');
      assert.deepEqual(
        res.hops.map((h) => h.addressClass),
        ['private', 'private'],
      );
      assert.equal(res.hops[1]!.remoteAddress, '127.0.0.2');
    } finally {
      await s.close();
    }
  });

  it('follows a redirect from a public address to a public one', async () => {
    next = '/end';
    const s = session();
    try {
      const res = await s.fetch('http://public.test/go');
      assert.equal(await res.text(), 'public');
      assert.deepEqual(
        res.hops.map((h) => h.addressClass),
        ['public', 'public'],
      );
    } finally {
      await s.close();
    }
  });

  it("stops the first hop with 'refuse': nothing is sent to a private address even when the caller asked for it", async () => {
    const before = priv.received.length;
    const s = session({ refuse: 'all', internal: ['127.0.0.2/32'] });
    try {
      const err = await refused(s.fetch('http://internal.test/'));
      assert.equal(err.code, 'ERR_PRIVATE_ADDRESS');
      assert.equal(priv.received.length, before);
      assert.equal(err.hops.length, 1);
      assert.equal(addressDecision(err.hops[0])?.facts.refuse, 'all');
    } finally {
      await s.close();
    }
  });

  it("refuses loopback on the first hop with 'refuse' and the built-in list", async () => {
    const s = session('refuse');
    try {
      const err = await refused(s.fetch('http://public.test/'));
      assert.equal(err.code, 'ERR_PRIVATE_ADDRESS');
      assert.equal(addressDecision(err.hops[0])?.facts.customList, false);
    } finally {
      await s.close();
    }
  });

  it('keeps the default chain on loopback working: private to private is allowed', async () => {
    next = '/end';
    const s = new Session({ connectTo: [`public.test:80:127.0.0.1:${pub.port}`] }); // the default: 'refuse-redirects'
    try {
      const res = await s.fetch('http://public.test/go');
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.hops.map((h) => h.addressClass),
        ['private', 'private'],
      );
    } finally {
      await s.close();
    }
  });

  it("follows public to private with 'allow', recording both addresses", async () => {
    next = 'http://internal.test/';
    const s = session('allow');
    try {
      const res = await s.fetch('http://public.test/go');
      assert.equal(await res.text(), 'private');
      assert.equal(res.hops[1]!.remoteAddress, '127.0.0.2');
    } finally {
      await s.close();
    }
  });

  it('refuses a guarded hop that would reuse a keep-alive connection already open to a private address', async () => {
    next = 'http://internal.test/again';
    const s = session();
    try {
      // A first chain starts inside (allowed) and leaves a keep-alive connection to internal.test open.
      const first = await s.fetch('http://internal.test/first');
      await first.text();
      const before = priv.received.length;
      const err = await refused(s.fetch('http://public.test/go'));
      assert.equal(err.code, 'ERR_PRIVATE_ADDRESS');
      assert.equal(priv.received.length, before, 'nothing went down the open connection');
    } finally {
      await s.close();
    }
  });

  it('judges the address a name resolves to (DNS), not the name: a connectTo target of localhost is refused when loopback is private', async () => {
    // Here 127.0.0.1 and ::1 are private and 127.0.0.2 public: the chain starts on 127.0.0.2 and is
    // redirected to a name that resolves to loopback.
    next = 'http://dns.test/x';
    const before = pub.received.length;
    const s = new Session({ privateNetworks: { refuse: 'redirects', internal: ['127.0.0.1/32', '::1/128'] }, connectTo: [`p2.test:80:127.0.0.2:${priv.port}`, `dns.test:80:localhost:${pub.port}`] });
    try {
      const err = await refused(s.fetch('http://p2.test/go'));
      assert.equal(err.code, 'ERR_PRIVATE_ADDRESS');
      assert.equal(err.hops[0]!.addressClass, 'public');
      assert.ok(['127.0.0.1', '::1'].includes(String(addressDecision(err.hops[1])?.facts.address)));
      assert.equal(pub.received.length, before, 'nothing reached the loopback server');
    } finally {
      await s.close();
    }
  });

  it('cannot be bypassed by a beforeRedirect hook that points the next hop at a private host', async () => {
    next = '/end';
    const before = priv.received.length;
    const s = session(LOOPBACK_AS_PUBLIC, {
      hooks: {
        beforeRedirect: (state: { next: { url: string } }) => {
          state.next.url = 'http://internal.test/from-hook';
        },
      },
    });
    try {
      const err = await refused(s.fetch('http://public.test/go'));
      assert.equal(err.code, 'ERR_PRIVATE_ADDRESS');
      assert.equal(priv.received.length, before);
    } finally {
      await s.close();
    }
  });
});
