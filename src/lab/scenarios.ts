/**
 * The lab's scenarios. Each one is a tiny server-side story: routes on one or more lab hosts, all
 * under the path prefix `/<id>`, plus its public description (`ScenarioInfo`). URLs here are
 * logical (default ports 80/443, and 8080 for the cross-port case); they do not depend on the real
 * ports the lab listens on, so scenario data is static.
 */
import type { ScenarioInfo, ExpectCase, FindingCode } from './types.js';
import { type LabResponse, type RequestContext, hasBearer, html, json, loginUser, newSid, redirect, sessionUser, text } from './respond.js';

export const HOSTS = {
  app: 'app.hopwise.test',
  api: 'api.hopwise.test',
  cdn: 'cdn.hopwise.test',
  idp: 'login.hopwise-idp.test',
  evil: 'evil.test',
  s3: 's3.hopwise.test',
  euS3: 'eu.s3.hopwise.test',
} as const;

export const LAB_HOSTNAMES: readonly string[] = Object.values(HOSTS);

/** Logical port of each listener. */
export const LOGICAL_PORTS = { http: 80, https: 443, alt: 8080 } as const;

const APP = `https://${HOSTS.app}`;
const APP_HTTP = `http://${HOSTS.app}`;
const API = `https://${HOSTS.api}`;
const API_HTTP = `http://${HOSTS.api}`;
const API_ALT = `http://${HOSTS.api}:8080`;
const CDN = `https://${HOSTS.cdn}`;
const EVIL = `https://${HOSTS.evil}`;
const S3 = `https://${HOSTS.s3}`;
const EU_S3 = `https://${HOSTS.euS3}`;

/** The token the expect cases use; any `Bearer <token>` is accepted. */
export const LAB_TOKEN = 'hopwise-lab-token';
const BEARER = `Bearer ${LAB_TOKEN}`;
export const LAB_API_KEY = 'hopwise-lab-key-123';

export interface ScenarioDef<S = unknown> {
  info: Omit<ScenarioInfo, 'entry'> & { entryOrigin: string; entryPath: string };
  createState(): S;
  /** undefined → 404 (no such route in this scenario on this host). */
  handle(ctx: RequestContext<S>): LabResponse | undefined;
}

function def<S>(d: ScenarioDef<S>): ScenarioDef<unknown> {
  return d as unknown as ScenarioDef<unknown>;
}

const SID_ROOT = (sid: string) => `sid=${sid}; Path=/; HttpOnly`;

function protectedResource(where: string): LabResponse {
  return text(200, `authorized: ${where} got a Bearer token`);
}

function unauthorized(where: string): LabResponse {
  return text(401, `401 no Authorization: the Bearer token did not reach ${where}`, [['www-authenticate', 'Bearer realm="hopwise-lab"']]);
}

function greet(user: string | undefined, headers: Array<[string, string]> = []): LabResponse {
  return user === undefined ? text(401, 'no session', headers) : text(200, `Hello, ${user}`, headers);
}

const SENSITIVE_NAME = /^(authorization|proxy-authorization|cookie|cookie2|x-api-key)$|(key|token|secret|signature|session|auth)/i;

// ---------------------------------------------------------------------------------------------
// 1. same-origin redirect behind a load balancer / CDN
// ---------------------------------------------------------------------------------------------
const sameOriginAuth = def<null>({
  info: {
    id: 'same-origin-auth',
    item: 1,
    title: 'Same-origin redirect behind a load balancer keeps the Bearer token',
    story:
      'An API client sends `Authorization: Bearer …` to https://api.hopwise.test/same-origin-auth/start. The load balancer in front of the API answers 302 to another path on the very same origin (`/same-origin-auth/resource`), as balancers and CDNs do when they canonicalise a path. The resource answers 200 only when the Bearer token arrived and 401 otherwise. The redirect stays on one origin, so a careful client keeps the header; a client that drops credentials on every redirect gets a 401 it cannot explain.',
    problem: 'lost-token',
    entryOrigin: API,
    entryPath: '/start',
    hosts: [HOSTS.api],
    expect: {
      summary: 'Follow the 302 and keep Authorization (same origin): 200 "authorized".',
      cause: 'none for a careful client; a client that strips Authorization on every redirect gets 401 at /resource.',
      cases: [
        {
          name: 'raw-header',
          setup: 'Authorization set as a raw request header',
          findings: [],
          request: { method: 'GET', url: `${API}/same-origin-auth/start`, headers: { authorization: BEARER } },
          outcome: { status: 200, url: `${API}/same-origin-auth/resource`, bodyIncludes: 'authorized', redirects: 1 },
          reached: [
            { url: `${API}/same-origin-auth/start`, headers: { present: ['authorization'] } },
            { url: `${API}/same-origin-auth/resource`, headers: { present: ['authorization'] } },
          ],
        },
      ],
    },
  },
  createState: () => null,
  handle(ctx) {
    if (ctx.hostname !== HOSTS.api) return undefined;
    if (ctx.path === '/start') return redirect(302, '/same-origin-auth/resource', [['via', '1.1 hopwise-lab-lb']]);
    if (ctx.path === '/resource') return hasBearer(ctx) ? protectedResource('/resource') : unauthorized('/resource');
    return undefined;
  },
});

// ---------------------------------------------------------------------------------------------
// 2. cross-origin redirect to another host (and to another port)
// ---------------------------------------------------------------------------------------------
const crossOriginAuth = def<null>({
  info: {
    id: 'cross-origin-auth',
    item: 2,
    title: 'Cross-origin redirect: the Authorization header is stripped',
    story:
      'The API at https://api.hopwise.test/cross-origin-auth/start answers 302 to https://cdn.hopwise.test/cross-origin-auth/resource, a different host that also wants the Bearer token (200 with it, 401 without). A raw Authorization header must not follow to another origin, so a careful client arrives without it and gets 401 — the classic "my token disappeared after a redirect" report. The fix is to say where the token may go: trust the CDN host, or give the token as an auth provider scoped to both hosts. The variant /port-start (plain http) redirects to the same host on port 8080: another port is another origin too.',
    problem: 'lost-token',
    entryOrigin: API,
    entryPath: '/start',
    hosts: [HOSTS.api, HOSTS.cdn],
    expect: {
      summary:
        'A raw Authorization header is stripped at the hop to cdn.hopwise.test (401 there); with trust: [cdn.hopwise.test] or a bearer provider scoped to both hosts it is sent and the answer is 200.',
      cause: 'Authorization is a credential for api.hopwise.test only; the redirect crosses to another origin.',
      cases: [
        {
          name: 'raw-header',
          setup: 'Authorization set as a raw request header, no trust',
          findings: ['credential-stripped-cross-origin', 'unauthorized-after-redirect'],
          request: { method: 'GET', url: `${API}/cross-origin-auth/start`, headers: { authorization: BEARER } },
          outcome: { status: 401, url: `${CDN}/cross-origin-auth/resource`, bodyIncludes: 'no Authorization', redirects: 1 },
          reached: [
            { url: `${API}/cross-origin-auth/start`, headers: { present: ['authorization'] } },
            { url: `${CDN}/cross-origin-auth/resource`, headers: { absent: ['authorization'] } },
          ],
        },
        {
          name: 'trust',
          setup: "Authorization as a raw header, and trust: ['cdn.hopwise.test']",
          findings: [],
          request: { method: 'GET', url: `${API}/cross-origin-auth/start`, headers: { authorization: BEARER } },
          options: { trust: [HOSTS.cdn] },
          outcome: { status: 200, url: `${CDN}/cross-origin-auth/resource`, bodyIncludes: 'authorized', redirects: 1 },
          reached: [{ url: `${CDN}/cross-origin-auth/resource`, headers: { present: ['authorization'] } }],
        },
        {
          name: 'scoped-provider',
          setup: "bearer(token, { scope: ['api.hopwise.test', 'cdn.hopwise.test'] }), no raw header",
          findings: [],
          request: { method: 'GET', url: `${API}/cross-origin-auth/start` },
          auth: { kind: 'bearer', token: LAB_TOKEN, scope: [HOSTS.api, HOSTS.cdn] },
          outcome: { status: 200, url: `${CDN}/cross-origin-auth/resource`, bodyIncludes: 'authorized', redirects: 1 },
          reached: [
            { url: `${API}/cross-origin-auth/start`, headers: { present: ['authorization'] } },
            { url: `${CDN}/cross-origin-auth/resource`, headers: { present: ['authorization'] } },
          ],
        },
        {
          name: 'cross-port',
          setup: 'Authorization as a raw header; http://api.hopwise.test → http://api.hopwise.test:8080 (same host, other port)',
          findings: ['credential-stripped-cross-origin', 'unauthorized-after-redirect'],
          request: { method: 'GET', url: `${API_HTTP}/cross-origin-auth/port-start`, headers: { authorization: BEARER } },
          outcome: { status: 401, url: `${API_ALT}/cross-origin-auth/resource`, bodyIncludes: 'no Authorization', redirects: 1 },
          reached: [{ url: `${API_ALT}/cross-origin-auth/resource`, headers: { absent: ['authorization'] } }],
        },
      ],
    },
  },
  createState: () => null,
  handle(ctx) {
    const h = ctx.hostname;
    if (h === HOSTS.api && ctx.path === '/start') return redirect(302, `${CDN}/cross-origin-auth/resource`);
    if (h === HOSTS.api && ctx.path === '/port-start') return redirect(302, `${API_ALT}/cross-origin-auth/resource`);
    if (ctx.path === '/resource' && (h === HOSTS.cdn || (h === HOSTS.api && ctx.port === LOGICAL_PORTS.alt))) {
      return hasBearer(ctx) ? protectedResource(ctx.origin) : unauthorized(ctx.origin);
    }
    return undefined;
  },
});

// ---------------------------------------------------------------------------------------------
// 3. trusted API with an open redirect to evil.test
// ---------------------------------------------------------------------------------------------
const EVIL_TARGET = `${EVIL}/open-redirect/collect`;
const openRedirect = def<null>({
  info: {
    id: 'open-redirect',
    item: 3,
    title: 'Trusted API with an open redirect to evil.test',
    story:
      'The client trusts api.hopwise.test with its token. https://api.hopwise.test/open-redirect/start sends it through the API\'s own open redirect, `/open-redirect/redirect?to=https://evil.test/open-redirect/collect`, which forwards to any URL it is given — the "trusting Location headers blindly" pitfall. Trusting the API must not mean trusting wherever it redirects: nothing sensitive may reach evil.test. evil.test answers 200 with a JSON list of the secret-looking headers it received (`"leaked":[]` for a careful client), and the lab records everything it got.',
    problem: 'lost-token',
    entryOrigin: API,
    entryPath: '/start',
    hosts: [HOSTS.api, HOSTS.evil],
    expect: {
      summary: 'The token reaches both api.hopwise.test hops but not evil.test, even with trust: [api.hopwise.test]; evil.test answers 200 {"leaked":[]}.',
      cause: 'The trusted API redirects to whatever `to=` says; trust covers the API, not its redirect targets.',
      cases: [
        {
          name: 'trusted-raw-header',
          setup: "Authorization and X-Api-Key as raw headers, trust: ['api.hopwise.test']",
          findings: ['credential-stripped-cross-origin', 'secret-header-stripped'],
          request: {
            method: 'GET',
            url: `${API}/open-redirect/start`,
            headers: { authorization: BEARER, 'x-api-key': LAB_API_KEY },
          },
          options: { trust: [HOSTS.api] },
          outcome: { status: 200, url: EVIL_TARGET, bodyIncludes: '"leaked":[]', redirects: 2 },
          reached: [
            { url: `${API}/open-redirect/start`, headers: { present: ['authorization', 'x-api-key'] } },
            { url: `${API}/open-redirect/redirect?to=${encodeURIComponent(EVIL_TARGET)}`, headers: { present: ['authorization', 'x-api-key'] } },
            { url: EVIL_TARGET, headers: { absent: ['authorization', 'x-api-key', 'cookie'] } },
          ],
        },
        {
          name: 'scoped-provider',
          setup: "bearer(token, { scope: 'api.hopwise.test' })",
          findings: ['credential-stripped-cross-origin'],
          request: { method: 'GET', url: `${API}/open-redirect/start` },
          auth: { kind: 'bearer', token: LAB_TOKEN, scope: [HOSTS.api] },
          outcome: { status: 200, url: EVIL_TARGET, bodyIncludes: '"leaked":[]', redirects: 2 },
          reached: [{ url: EVIL_TARGET, headers: { absent: ['authorization'] } }],
        },
      ],
    },
  },
  createState: () => null,
  handle(ctx) {
    if (ctx.hostname === HOSTS.api) {
      if (ctx.path === '/start') return redirect(302, `/open-redirect/redirect?to=${encodeURIComponent(EVIL_TARGET)}`);
      if (ctx.path === '/redirect') {
        const to = ctx.query.get('to');
        if (!to) return text(400, 'open redirect: give the target as ?to=URL');
        return redirect(302, to);
      }
      return undefined;
    }
    if (ctx.hostname === HOSTS.evil) {
      const leaked = Object.keys(ctx.headers).filter((n) => SENSITIVE_NAME.test(n));
      return json(200, { host: ctx.hostname, path: `/open-redirect${ctx.path}`, leaked });
    }
    return undefined;
  },
});

// ---------------------------------------------------------------------------------------------
// 4. POST answered by 301, 302, 303, 307, 308
// ---------------------------------------------------------------------------------------------
const POST_BODY = 'name=alice&note=hello';
const POST_CODES = [301, 302, 303, 307, 308] as const;
function postCase(code: number, method = 'POST'): ExpectCase {
  const keeps = code === 307 || code === 308;
  const becomesGet = !keeps && !(method === 'HEAD');
  const finalMethod = becomesGet ? 'GET' : method;
  const bodySize = keeps ? Buffer.byteLength(POST_BODY) : 0;
  const contentType = keeps ? 'application/x-www-form-urlencoded' : null;
  return {
    name: method === 'POST' ? String(code) : `${code}-${method.toLowerCase()}`,
    setup: `${method} with a ${Buffer.byteLength(POST_BODY)}-byte form body, answered by ${code}`,
    // the doctor names the rewrite where the client chose it (a POST answered by 301 or 302); a 303
    // asks for GET, and 307/308 keep the method
    findings: method === 'POST' && (code === 301 || code === 302) ? ['post-became-get'] : [],
    request: {
      method,
      url: `${API}/post-redirects/${code}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: POST_BODY,
    },
    outcome: {
      status: 200,
      url: `${API}/post-redirects/echo`,
      bodyIncludes: JSON.stringify({ method: finalMethod, bodySize, contentType }),
      redirects: 1,
    },
    reached: [
      {
        url: `${API}/post-redirects/echo`,
        method: finalMethod,
        bodySize,
        headers: keeps ? { present: ['content-type'] } : { absent: ['content-type', 'content-length'] },
      },
    ],
  };
}
const postRedirects = def<null>({
  info: {
    id: 'post-redirects',
    item: 4,
    title: 'POST answered by 301, 302, 303, 307 and 308',
    story:
      'A form or API POST is answered by a redirect, and what happens next depends on the status: after 301 and 302 clients (and browsers) re-send as GET without the body, 303 means "now GET this", and 307 and 308 require the same method and the same body — the "forgetting that 307 and 308 preserve the HTTP method" pitfall. Each of /post-redirects/301, /302, /303, /307, /308 redirects to /post-redirects/echo on the same origin, which answers JSON `{ method, bodySize, contentType }` so the method and body that arrived are visible.',
    problem: 'lost-token',
    entryOrigin: API,
    entryPath: '/301',
    hosts: [HOSTS.api],
    expect: {
      summary: '301/302/303: the echo sees GET with no body and no content-type; 307/308: POST with the same body and content-type; a PUT answered by 303 becomes GET.',
      cause: 'RFC 9110 §15.4: 301/302 historically turn POST into GET, 303 always means GET, 307/308 keep method and body.',
      cases: [...POST_CODES.map((c) => postCase(c)), postCase(303, 'PUT')],
    },
  },
  createState: () => null,
  handle(ctx) {
    if (ctx.hostname !== HOSTS.api) return undefined;
    if (ctx.path === '/echo') {
      return json(200, { method: ctx.method, bodySize: ctx.bodySize, contentType: ctx.headers['content-type'] ?? null });
    }
    const m = /^\/(\d{3})$/.exec(ctx.path);
    if (m && (POST_CODES as readonly number[]).includes(Number(m[1]))) return redirect(Number(m[1]), '/post-redirects/echo');
    return undefined;
  },
});

// ---------------------------------------------------------------------------------------------
// 5. login sets the session cookie on a 302, /dashboard greets the user
// ---------------------------------------------------------------------------------------------
const loginSession = def<{ sessions: Map<string, string | null> }>({
  info: {
    id: 'login-session',
    item: 5,
    title: 'Login sets the session cookie on a 302, /dashboard greets the user',
    story:
      'The classic lost session: a Flask-style app stores the user in the session and answers the login with `redirect("/dashboard")`. GET or POST https://app.hopwise.test/login-session/login answers 302 to /login-session/dashboard and sets `sid=<random>; Path=/; HttpOnly` on that 302. The dashboard says `Hello, alice` when the sid names a session it knows, and 401 `no session` otherwise. A client that ignores Set-Cookie on redirect responses, or has no cookie jar, "loses the session" here.',
    problem: 'lost-session',
    entryOrigin: APP,
    entryPath: '/login',
    hosts: [HOSTS.app],
    expect: {
      summary: 'Store the sid from the 302, send it to /dashboard: 200 "Hello, alice".',
      cause: 'The session cookie arrives on the redirect response itself; it must be stored before the next hop.',
      cases: [
        {
          name: 'get',
          setup: 'a session with a cookie jar',
          findings: [],
          request: { method: 'GET', url: `${APP}/login-session/login` },
          outcome: { status: 200, url: `${APP}/login-session/dashboard`, bodyIncludes: 'Hello, alice', redirects: 1 },
          reached: [{ url: `${APP}/login-session/dashboard`, cookies: { present: ['sid'] } }],
        },
        {
          name: 'post',
          setup: 'POST user=alice with a cookie jar (302 turns it into GET)',
          findings: ['post-became-get'],
          request: {
            method: 'POST',
            url: `${APP}/login-session/login`,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: 'user=alice',
          },
          outcome: { status: 200, url: `${APP}/login-session/dashboard`, bodyIncludes: 'Hello, alice', redirects: 1 },
          reached: [{ url: `${APP}/login-session/dashboard`, method: 'GET', cookies: { present: ['sid'] } }],
        },
      ],
    },
  },
  createState: () => ({ sessions: new Map() }),
  handle(ctx) {
    if (ctx.hostname !== HOSTS.app) return undefined;
    if (ctx.path === '/login') {
      const sid = newSid();
      ctx.state.sessions.set(sid, loginUser(ctx));
      return redirect(302, '/login-session/dashboard', [['set-cookie', SID_ROOT(sid)]]);
    }
    if (ctx.path === '/dashboard') return greet(sessionUser(ctx, ctx.state.sessions));
    return undefined;
  },
});

// ---------------------------------------------------------------------------------------------
// 6. session cookie with Path=/app
// ---------------------------------------------------------------------------------------------
const cookiePath = def<{ sessions: Map<string, string | null> }>({
  info: {
    id: 'cookie-path',
    item: 6,
    title: 'Session cookie set with Path=/app, redirect to /dashboard: no session',
    story:
      'The second classic way to lose a session: the login sets the session cookie with `Path=/app`, but the app does not live under /app, and the redirect goes to the dashboard outside that path. https://app.hopwise.test/cookie-path/login answers 302 to /cookie-path/dashboard with `Set-Cookie: sid=…; Path=/app; HttpOnly`. The cookie is stored, but its path does not cover /cookie-path/dashboard, so it is (correctly) not sent and the dashboard answers 401 `no session`. The fix is `Path=/`: /cookie-path/login-fixed does exactly that and the dashboard greets the user.',
    problem: 'lost-session',
    entryOrigin: APP,
    entryPath: '/login',
    hosts: [HOSTS.app],
    expect: {
      summary: 'Store the cookie but withhold it from /cookie-path/dashboard (path mismatch): 401 "no session". With the Path=/ fix: 200 "Hello, alice".',
      cause: 'Path=/app does not cover /cookie-path/dashboard; the server should set Path=/.',
      cases: [
        {
          name: 'path-app',
          setup: 'a session with a cookie jar',
          findings: ['cookie-withheld-path', 'unauthorized-after-redirect'],
          request: { method: 'GET', url: `${APP}/cookie-path/login` },
          outcome: { status: 401, url: `${APP}/cookie-path/dashboard`, bodyIncludes: 'no session', redirects: 1 },
          reached: [{ url: `${APP}/cookie-path/dashboard`, cookies: { absent: ['sid'] } }],
        },
        {
          name: 'path-root-fix',
          setup: 'a session with a cookie jar; the server sets Path=/',
          findings: [],
          request: { method: 'GET', url: `${APP}/cookie-path/login-fixed` },
          outcome: { status: 200, url: `${APP}/cookie-path/dashboard`, bodyIncludes: 'Hello, alice', redirects: 1 },
          reached: [{ url: `${APP}/cookie-path/dashboard`, cookies: { present: ['sid'] } }],
        },
      ],
    },
  },
  createState: () => ({ sessions: new Map() }),
  handle(ctx) {
    if (ctx.hostname !== HOSTS.app) return undefined;
    if (ctx.path === '/login' || ctx.path === '/login-fixed') {
      const sid = newSid();
      ctx.state.sessions.set(sid, loginUser(ctx));
      const path = ctx.path === '/login' ? '/app' : '/';
      return redirect(302, '/cookie-path/dashboard', [['set-cookie', `sid=${sid}; Path=${path}; HttpOnly`]]);
    }
    if (ctx.path === '/dashboard') return greet(sessionUser(ctx, ctx.state.sessions));
    return undefined;
  },
});

// ---------------------------------------------------------------------------------------------
// 7. meta refresh / script "redirects" in a 200 page
// ---------------------------------------------------------------------------------------------
const metaRefresh = def<{ sessions: Map<string, string | null> }>({
  info: {
    id: 'meta-refresh',
    item: 7,
    title: 'A "redirect" done by <meta http-equiv="refresh"> (or a script) in a 200 page',
    story:
      'The third classic way: instead of a real 302, the app returns a 200 HTML page with `<meta http-equiv="refresh" content="0; url=/meta-refresh/next">` (and sets the session cookie on it). A browser moves on; an HTTP client stops at the 200 and the next page is never requested, so the session "does not survive". https://app.hopwise.test/meta-refresh/start is the meta refresh page, /meta-refresh/script does the same with `<script>location.href=\'/meta-refresh/next\'</script>`, and /meta-refresh/next greets the user when the sid arrives (401 `no session` otherwise). The fix on the server is a real 3xx.',
    problem: 'lost-session',
    entryOrigin: APP,
    entryPath: '/start',
    hosts: [HOSTS.app],
    expect: {
      summary:
        'By default the chain ends at the 200 HTML page (0 redirects; the page is not a redirect) and the doctor names the meta refresh; with followMetaRefresh the client goes on to /next: 200 "Hello, alice". The script variant is never followed.',
      cause: 'A meta refresh or a script is not an HTTP redirect; only a browser acts on it.',
      cases: [
        {
          name: 'meta-default',
          setup: 'a session with a cookie jar, default options',
          findings: ['client-side-redirect'],
          request: { method: 'GET', url: `${APP}/meta-refresh/start` },
          outcome: { status: 200, url: `${APP}/meta-refresh/start`, bodyIncludes: 'http-equiv="refresh"', redirects: 0 },
          notReached: [`${APP}/meta-refresh/next`],
        },
        {
          name: 'meta-follow',
          setup: 'followMetaRefresh: true (CLI --follow-meta-refresh)',
          findings: ['client-side-redirect'],
          request: { method: 'GET', url: `${APP}/meta-refresh/start` },
          options: { followMetaRefresh: true },
          outcome: { status: 200, url: `${APP}/meta-refresh/next`, bodyIncludes: 'Hello, alice' },
          reached: [{ url: `${APP}/meta-refresh/next`, cookies: { present: ['sid'] } }],
        },
        {
          name: 'script',
          setup: 'a session with a cookie jar, any options',
          findings: ['client-side-redirect'],
          request: { method: 'GET', url: `${APP}/meta-refresh/script` },
          outcome: { status: 200, url: `${APP}/meta-refresh/script`, bodyIncludes: 'location.href', redirects: 0 },
          notReached: [`${APP}/meta-refresh/next`],
        },
      ],
    },
  },
  createState: () => ({ sessions: new Map() }),
  handle(ctx) {
    if (ctx.hostname !== HOSTS.app) return undefined;
    if (ctx.path === '/start' || ctx.path === '/script') {
      const sid = newSid();
      ctx.state.sessions.set(sid, loginUser(ctx));
      const head = ctx.path === '/start' ? '<meta http-equiv="refresh" content="0; url=/meta-refresh/next">' : "<script>location.href='/meta-refresh/next'</script>";
      return html(200, `<!doctype html>\n<html><head><title>Signing you in…</title>${head}</head><body><p>Signing you in… <a href="/meta-refresh/next">continue</a></p></body></html>\n`, [
        ['set-cookie', SID_ROOT(sid)],
      ]);
    }
    if (ctx.path === '/next') return greet(sessionUser(ctx, ctx.state.sessions));
    return undefined;
  },
});

// ---------------------------------------------------------------------------------------------
// 8. host-only cookie from app. not sent to api.
// ---------------------------------------------------------------------------------------------
const subdomainCookie = def<{ sessions: Map<string, string | null> }>({
  info: {
    id: 'subdomain-cookie',
    item: 8,
    title: 'Host-only cookie from app. is not sent to api. (subdomains), and the Domain= fix',
    story:
      'Moving between subdomains: the login at https://app.hopwise.test/subdomain-cookie/login sets `sid` without a Domain attribute and answers 302 to https://api.hopwise.test/subdomain-cookie/me. A cookie without Domain is host-only: it belongs to app.hopwise.test and is never sent to api.hopwise.test, so /me answers 401 `no session`. The fix is `Domain=hopwise.test`, which /subdomain-cookie/login-domain sets; then /me greets the user.',
    problem: 'lost-session',
    entryOrigin: APP,
    entryPath: '/login',
    hosts: [HOSTS.app, HOSTS.api],
    expect: {
      summary: 'Host-only sid stays on app.hopwise.test: /me on api.hopwise.test answers 401 "no session". With Domain=hopwise.test it is sent: 200 "Hello, alice".',
      cause: 'A cookie without Domain is host-only; api.hopwise.test is a different host.',
      cases: [
        {
          name: 'host-only',
          setup: 'a session with a cookie jar',
          findings: ['cookie-withheld-host-only', 'unauthorized-after-redirect'],
          request: { method: 'GET', url: `${APP}/subdomain-cookie/login` },
          outcome: { status: 401, url: `${API}/subdomain-cookie/me`, bodyIncludes: 'no session', redirects: 1 },
          reached: [{ url: `${API}/subdomain-cookie/me`, cookies: { absent: ['sid'] } }],
        },
        {
          name: 'domain-fix',
          setup: 'a session with a cookie jar; the server sets Domain=hopwise.test',
          findings: [],
          request: { method: 'GET', url: `${APP}/subdomain-cookie/login-domain` },
          outcome: { status: 200, url: `${API}/subdomain-cookie/me`, bodyIncludes: 'Hello, alice', redirects: 1 },
          reached: [{ url: `${API}/subdomain-cookie/me`, cookies: { present: ['sid'] } }],
        },
      ],
    },
  },
  createState: () => ({ sessions: new Map() }),
  handle(ctx) {
    if (ctx.hostname === HOSTS.app && (ctx.path === '/login' || ctx.path === '/login-domain')) {
      const sid = newSid();
      ctx.state.sessions.set(sid, loginUser(ctx));
      const cookie = ctx.path === '/login' ? SID_ROOT(sid) : `sid=${sid}; Domain=hopwise.test; Path=/; HttpOnly`;
      return redirect(302, `${API}/subdomain-cookie/me`, [['set-cookie', cookie]]);
    }
    if (ctx.hostname === HOSTS.api && ctx.path === '/me') return greet(sessionUser(ctx, ctx.state.sessions));
    return undefined;
  },
});

// ---------------------------------------------------------------------------------------------
// 9. http → https with a cookie; a Secure cookie set over http
// ---------------------------------------------------------------------------------------------
const httpsUpgrade = def<{ sessions: Map<string, string | null> }>({
  info: {
    id: 'https-upgrade',
    item: 9,
    title: 'http → https with a cookie, and a Secure cookie set over http (rejected)',
    story:
      'Moving from http to https: the login page is reached over plain http (http://app.hopwise.test/https-upgrade/start), sets `sid` and redirects to https://app.hopwise.test/https-upgrade/page. A cookie set over http is sent to https on the same host, so the page greets the user, and an Authorization header survives this same-host http→https upgrade. The variant /https-upgrade/start-secure sets the cookie with the `Secure` attribute over plain http: a correct client rejects that Set-Cookie (RFC 6265bis: only a secure origin may set a Secure cookie), so the https page answers 401 `no session`.',
    problem: 'lost-session',
    entryOrigin: APP_HTTP,
    entryPath: '/start',
    hosts: [HOSTS.app],
    expect: {
      summary: 'Cookie from http is sent after the upgrade (200 "Hello, alice", Authorization kept on the upgrade); a Secure cookie set over http is rejected (401 "no session").',
      cause: 'Only a secure origin may set a Secure cookie; the server sets it on an http: response.',
      cases: [
        {
          name: 'upgrade',
          setup: 'a session with a cookie jar; Authorization as a raw header',
          findings: [],
          request: { method: 'GET', url: `${APP_HTTP}/https-upgrade/start`, headers: { authorization: BEARER } },
          outcome: { status: 200, url: `${APP}/https-upgrade/page`, bodyIncludes: 'Hello, alice', redirects: 1 },
          reached: [{ url: `${APP}/https-upgrade/page`, cookies: { present: ['sid'] }, headers: { present: ['authorization'] } }],
        },
        {
          name: 'secure-over-http',
          setup: 'a session with a cookie jar; the server sets Secure over http',
          findings: ['set-cookie-rejected-secure-from-insecure', 'unauthorized-after-redirect'],
          request: { method: 'GET', url: `${APP_HTTP}/https-upgrade/start-secure` },
          outcome: { status: 401, url: `${APP}/https-upgrade/page`, bodyIncludes: 'no session', redirects: 1 },
          reached: [{ url: `${APP}/https-upgrade/page`, cookies: { absent: ['sid'] } }],
        },
      ],
    },
  },
  createState: () => ({ sessions: new Map() }),
  handle(ctx) {
    if (ctx.hostname !== HOSTS.app) return undefined;
    if (ctx.path === '/start' || ctx.path === '/start-secure') {
      const sid = newSid();
      ctx.state.sessions.set(sid, loginUser(ctx));
      const cookie = ctx.path === '/start' ? SID_ROOT(sid) : `sid=${sid}; Path=/; Secure; HttpOnly`;
      return redirect(302, `${APP}/https-upgrade/page`, [['set-cookie', cookie]]);
    }
    if (ctx.path === '/page') return greet(sessionUser(ctx, ctx.state.sessions));
    return undefined;
  },
});

// ---------------------------------------------------------------------------------------------
// 10. https → http downgrade
// ---------------------------------------------------------------------------------------------
const httpsDowngrade = def<{ sessions: Map<string, string | null> }>({
  info: {
    id: 'https-downgrade',
    item: 10,
    title: 'https → http downgrade',
    story:
      'https://app.hopwise.test/https-downgrade/start sets a `Secure` session cookie and answers 302 to http://app.hopwise.test/https-downgrade/landing — plain text on the wire, where anyone on the path can read a token or a cookie. A careful client refuses the downgrade by default. When told to follow (allowDowngrade), it treats the hop as cross-origin: the Authorization header stays behind and the Secure cookie is not sent over http. The landing page answers 200 with JSON saying what it received.',
    entryOrigin: APP,
    entryPath: '/start',
    hosts: [HOSTS.app],
    expect: {
      summary:
        'Refuse with ERR_INSECURE_REDIRECT (landing never reached); with allowDowngrade: follow, but landing receives neither Authorization nor the Secure sid (200 {"authorization":false,"cookies":[]}).',
      cause: 'The server redirects from https: to http:.',
      cases: [
        {
          name: 'default',
          setup: 'Authorization as a raw header, default options',
          findings: ['downgrade-refused'],
          request: { method: 'GET', url: `${APP}/https-downgrade/start`, headers: { authorization: BEARER } },
          outcome: { error: 'ERR_INSECURE_REDIRECT' },
          reached: [{ url: `${APP}/https-downgrade/start`, headers: { present: ['authorization'] } }],
          notReached: [`${APP_HTTP}/https-downgrade/landing`],
        },
        {
          name: 'allow-downgrade',
          setup: 'Authorization as a raw header, allowDowngrade: true',
          findings: ['downgrade-followed', 'credential-stripped-cross-origin', 'cookie-withheld-secure'],
          request: { method: 'GET', url: `${APP}/https-downgrade/start`, headers: { authorization: BEARER } },
          options: { allowDowngrade: true },
          outcome: { status: 200, url: `${APP_HTTP}/https-downgrade/landing`, bodyIncludes: '"authorization":false,"cookies":[]', redirects: 1 },
          reached: [{ url: `${APP_HTTP}/https-downgrade/landing`, headers: { absent: ['authorization'] }, cookies: { absent: ['sid'] } }],
        },
      ],
    },
  },
  createState: () => ({ sessions: new Map() }),
  handle(ctx) {
    if (ctx.hostname !== HOSTS.app) return undefined;
    if (ctx.path === '/start') {
      const sid = newSid();
      ctx.state.sessions.set(sid, loginUser(ctx));
      return redirect(302, `${APP_HTTP}/https-downgrade/landing`, [['set-cookie', `sid=${sid}; Path=/; Secure; HttpOnly`]]);
    }
    if (ctx.path === '/landing') {
      return json(200, {
        scheme: ctx.scheme,
        authorization: ctx.headers['authorization'] !== undefined,
        cookies: [...ctx.cookies.keys()],
      });
    }
    return undefined;
  },
});

// ---------------------------------------------------------------------------------------------
// 11. round-robin balancer with in-memory sessions, and with a shared store
// ---------------------------------------------------------------------------------------------
interface RoundRobinState {
  /** Backend the next non-login request lands on. */
  next: 'a' | 'b';
  memory: { a: Map<string, string | null>; b: Map<string, string | null> };
  shared: Map<string, string | null>;
}
const roundRobin = def<RoundRobinState>({
  info: {
    id: 'round-robin',
    item: 11,
    title: 'Two backends behind a round-robin balancer with in-memory sessions',
    story:
      'Ephemeral session stores: app.hopwise.test is two backends behind a round-robin balancer, each keeping sessions in its own memory. https://app.hopwise.test/round-robin/login lands on backend A, which creates the session, sets `sid` and answers 302 to /round-robin/dashboard. The balancer sends that next hop to backend B, which has never heard of the sid: it answers 401 `no session` and a fresh `Set-Cookie: sid=…` that replaces the one issued one hop earlier — the session looks "destroyed". The variant /round-robin/shared/login does the same with a store shared by both backends, and the dashboard on B greets the user. Every response carries `x-backend: a` or `b`. (The rotation restarts on A at every login so the story reproduces.)',
    problem: 'lost-session',
    entryOrigin: APP,
    entryPath: '/login',
    hosts: [HOSTS.app],
    expect: {
      summary:
        'In-memory: the client sends the sid from A to /dashboard, backend B answers 401 "no session" with x-backend: b and a new Set-Cookie sid replacing the previous one (the doctor names the replaced session cookie). Shared store: 200 "Hello, alice" from backend b.',
      cause: 'The session store is not shared between the backends behind the balancer.',
      cases: [
        {
          name: 'in-memory',
          setup: 'a session with a cookie jar',
          findings: ['session-cookie-replaced', 'unauthorized-after-redirect'],
          request: { method: 'GET', url: `${APP}/round-robin/login` },
          outcome: {
            status: 401,
            url: `${APP}/round-robin/dashboard`,
            bodyIncludes: 'no session',
            headers: { 'x-backend': 'b' },
            redirects: 1,
          },
          reached: [{ url: `${APP}/round-robin/dashboard`, cookies: { present: ['sid'] } }],
        },
        {
          name: 'shared-store',
          setup: 'a session with a cookie jar; the backends share a session store',
          findings: [],
          request: { method: 'GET', url: `${APP}/round-robin/shared/login` },
          outcome: {
            status: 200,
            url: `${APP}/round-robin/shared/dashboard`,
            bodyIncludes: 'Hello, alice',
            headers: { 'x-backend': 'b' },
            redirects: 1,
          },
          reached: [{ url: `${APP}/round-robin/shared/dashboard`, cookies: { present: ['sid'] } }],
        },
      ],
    },
  },
  createState: () => ({ next: 'a', memory: { a: new Map(), b: new Map() }, shared: new Map() }),
  handle(ctx) {
    if (ctx.hostname !== HOSTS.app) return undefined;
    const m = /^(\/shared)?\/(login|dashboard)$/.exec(ctx.path);
    if (!m) return undefined;
    const shared = m[1] !== undefined;
    const st = ctx.state;
    let backend: 'a' | 'b';
    if (m[2] === 'login') {
      backend = 'a';
      st.next = 'b';
    } else {
      backend = st.next;
      st.next = backend === 'a' ? 'b' : 'a';
    }
    const store = shared ? st.shared : st.memory[backend];
    const prefix = shared ? '/round-robin/shared' : '/round-robin';
    const tag: [string, string] = ['x-backend', backend];
    if (m[2] === 'login') {
      const sid = newSid();
      store.set(sid, loginUser(ctx));
      return redirect(302, `${prefix}/dashboard`, [tag, ['set-cookie', SID_ROOT(sid)]]);
    }
    const user = sessionUser(ctx, store);
    if (user !== undefined) return greet(user, [tag]);
    // Like most frameworks: an unknown sid starts a fresh, empty session.
    const fresh = newSid();
    store.set(fresh, null);
    return greet(undefined, [tag, ['set-cookie', SID_ROOT(fresh)]]);
  },
});

// ---------------------------------------------------------------------------------------------
// 12. redirect loops, and a chain longer than the limit
// ---------------------------------------------------------------------------------------------
const redirectLoop = def<null>({
  info: {
    id: 'redirect-loop',
    item: 12,
    title: 'A redirect loop (/loop → /loop, and a → b → a)',
    story:
      'A misconfigured rewrite rule answers https://app.hopwise.test/redirect-loop/loop with a 302 to itself, and /redirect-loop/a and /redirect-loop/b redirect to each other — the kind of loop every client needs a redirect limit for. Following blindly burns the whole limit and ends in a confusing error or, worse, hands back a 3xx as if it were the answer. A careful client notices the same request coming round again and stops at once with a loop error.',
    problem: 'lost-token',
    entryOrigin: APP,
    entryPath: '/loop',
    hosts: [HOSTS.app],
    expect: {
      summary: 'Stop with ERR_REDIRECT_LOOP as soon as the same request comes round (second visit of /loop, or of /a).',
      cause: 'The server redirects to a URL already visited in this chain with nothing changed.',
      cases: [
        {
          name: 'self',
          setup: 'default options',
          findings: ['redirect-loop'],
          request: { method: 'GET', url: `${APP}/redirect-loop/loop` },
          outcome: { error: 'ERR_REDIRECT_LOOP' },
          reached: [{ url: `${APP}/redirect-loop/loop` }],
        },
        {
          name: 'two-step',
          setup: 'default options',
          findings: ['redirect-loop'],
          request: { method: 'GET', url: `${APP}/redirect-loop/a` },
          outcome: { error: 'ERR_REDIRECT_LOOP' },
          reached: [{ url: `${APP}/redirect-loop/a` }, { url: `${APP}/redirect-loop/b` }],
        },
      ],
    },
  },
  createState: () => null,
  handle(ctx) {
    if (ctx.hostname !== HOSTS.app) return undefined;
    if (ctx.path === '/loop') return redirect(302, '/redirect-loop/loop');
    if (ctx.path === '/a') return redirect(302, '/redirect-loop/b');
    if (ctx.path === '/b') return redirect(302, '/redirect-loop/a');
    return undefined;
  },
});

const longChain = def<null>({
  info: {
    id: 'long-chain',
    item: 12,
    title: 'A redirect chain longer than the limit (/chain/25)',
    story:
      'https://app.hopwise.test/long-chain/chain/25 redirects to /chain/24, which redirects to /chain/23, and so on down to /chain/0, which answers 200 `end of chain`. Twenty-five redirects is more than the default limit of 20, so a careful client stops with a too-many-redirects error that names the limit, rather than looping forever or returning the last 302 as if it were the answer. Any count up to 1000 works (/chain/5 ends well within the limit).',
    problem: 'lost-token',
    entryOrigin: APP,
    entryPath: '/chain/25',
    hosts: [HOSTS.app],
    expect: {
      summary: 'Stop with ERR_TOO_MANY_REDIRECTS after 20 redirects (the lab sees 21 requests); with maxRedirects: 30 reach 200 "end of chain" after 25.',
      cause: 'The chain is longer than maxRedirects.',
      cases: [
        {
          name: 'over-limit',
          setup: 'default options (maxRedirects 20)',
          findings: ['too-many-redirects'],
          request: { method: 'GET', url: `${APP}/long-chain/chain/25` },
          outcome: { error: 'ERR_TOO_MANY_REDIRECTS' },
          notReached: [`${APP}/long-chain/chain/0`],
        },
        {
          name: 'raised-limit',
          setup: 'maxRedirects: 30',
          findings: [],
          request: { method: 'GET', url: `${APP}/long-chain/chain/25` },
          options: { maxRedirects: 30 },
          outcome: { status: 200, url: `${APP}/long-chain/chain/0`, bodyIncludes: 'end of chain', redirects: 25 },
        },
        {
          name: 'short',
          setup: 'default options',
          findings: [],
          request: { method: 'GET', url: `${APP}/long-chain/chain/5` },
          outcome: { status: 200, url: `${APP}/long-chain/chain/0`, bodyIncludes: 'end of chain', redirects: 5 },
        },
      ],
    },
  },
  createState: () => null,
  handle(ctx) {
    if (ctx.hostname !== HOSTS.app) return undefined;
    const m = /^\/chain\/(\d{1,4})$/.exec(ctx.path);
    if (!m) return undefined;
    const n = Number(m[1]);
    if (n > 1000) return text(400, 'chain length is at most 1000');
    return n === 0 ? text(200, 'end of chain') : redirect(302, `/long-chain/chain/${n - 1}`);
  },
});

// ---------------------------------------------------------------------------------------------
// 13. 307 that resends an upload to another origin
// ---------------------------------------------------------------------------------------------
const UPLOAD_BODY = 'x'.repeat(1024);
const uploadCase = (name: string, setup: string, findings: FindingCode[], options?: Record<string, unknown>): ExpectCase => ({
  name,
  setup,
  findings,
  request: {
    method: 'PUT',
    url: `${S3}/upload-307/bucket/key`,
    headers: { 'content-type': 'application/octet-stream', authorization: BEARER },
    body: UPLOAD_BODY,
  },
  ...(options ? { options } : {}),
  outcome: options ? { status: 200, url: `${EU_S3}/upload-307/bucket/key`, bodyIncludes: '"bodySize":1024', redirects: 1 } : { error: 'ERR_CROSS_ORIGIN_BODY' },
  reached: [
    { url: `${S3}/upload-307/bucket/key`, method: 'PUT', bodySize: 1024 },
    ...(options ? [{ url: `${EU_S3}/upload-307/bucket/key`, method: 'PUT', bodySize: 1024, headers: { absent: ['authorization'] } }] : []),
  ],
  ...(options ? {} : { notReached: [`${EU_S3}/upload-307/bucket/key`] }),
});
const upload307 = def<{ objects: Map<string, number> }>({
  info: {
    id: 'upload-307',
    item: 13,
    title: 'A 307 that resends an upload to another origin (S3-style regional redirect)',
    story:
      'An object store answers an upload sent to the wrong region with 307 Temporary Redirect to the regional endpoint, as S3 does: PUT (or POST) https://s3.hopwise.test/upload-307/bucket/key → 307 → https://eu.s3.hopwise.test/upload-307/bucket/key, which stores the object and answers JSON with the method and the body size it received. 307 means "send the same request again", body included — but to another origin, which may not be where the data was meant to go. A careful client refuses by default (the body goes only where credentials may go) and sends it when the user opts in.',
    entryOrigin: S3,
    entryPath: '/bucket/key',
    hosts: [HOSTS.s3, HOSTS.euS3],
    expect: {
      summary:
        'Refuse with ERR_CROSS_ORIGIN_BODY by default (eu.s3 never reached); with crossOriginBody: "send" (or trust: [eu.s3.hopwise.test]) resend PUT with all 1024 bytes; Authorization stays behind unless trusted.',
      cause: 'A 307 to another origin asks for the request body to be resent there.',
      cases: [
        uploadCase('default', 'PUT of 1024 bytes, default options', ['cross-origin-body-refused']),
        uploadCase('send', "PUT of 1024 bytes, crossOriginBody: 'send'", ['cross-origin-body-sent', 'credential-stripped-cross-origin'], { crossOriginBody: 'send' }),
      ],
    },
  },
  createState: () => ({ objects: new Map() }),
  handle(ctx) {
    if (!ctx.path.startsWith('/bucket/')) return undefined;
    if (ctx.hostname === HOSTS.s3) {
      const target = `${EU_S3}/upload-307${ctx.path}`;
      const r = redirect(307, target, [['x-amz-bucket-region', 'eu-west-1']]);
      r.headers = r.headers.map(([n, v]) => (n === 'content-type' ? [n, 'application/xml'] : [n, v]));
      r.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>TemporaryRedirect</Code><Message>Please re-send this request to the specified temporary endpoint.</Message><Endpoint>${HOSTS.euS3}</Endpoint></Error>\n`;
      return r;
    }
    if (ctx.hostname === HOSTS.euS3) {
      if (ctx.method === 'PUT' || ctx.method === 'POST') ctx.state.objects.set(ctx.path, ctx.bodySize);
      return json(200, {
        region: 'eu-west-1',
        method: ctx.method,
        bodySize: ctx.bodySize,
        stored: ctx.state.objects.get(ctx.path) ?? null,
      });
    }
    return undefined;
  },
});

// ---------------------------------------------------------------------------------------------
// 14. custom X-Api-Key header on a cross-origin redirect
// ---------------------------------------------------------------------------------------------
const apiKeyHeader = def<null>({
  info: {
    id: 'api-key-header',
    item: 14,
    title: 'A custom X-Api-Key header on a cross-origin redirect',
    story:
      'Not every credential is called Authorization: this API wants `X-Api-Key`. https://api.hopwise.test/api-key-header/start checks the key (401 without it) and answers 302 to a public asset on https://cdn.hopwise.test/api-key-header/asset. Clients that only strip Authorization forward the key to the CDN — why a careful client audits every sensitive header, custom API-key headers included. A careful client recognises the secret-looking header and does not send it to the other origin; the CDN answers 200 and reports whether a key arrived.',
    problem: 'lost-token',
    entryOrigin: API,
    entryPath: '/start',
    hosts: [HOSTS.api, HOSTS.cdn],
    expect: {
      summary: 'X-Api-Key reaches api.hopwise.test and is stripped at the hop to cdn.hopwise.test: 200 {"apiKeyReceived":false}.',
      cause: 'X-Api-Key is a secret-looking header and the redirect crosses to another origin.',
      cases: [
        {
          name: 'raw-header',
          setup: 'X-Api-Key as a raw request header',
          findings: ['secret-header-stripped'],
          request: { method: 'GET', url: `${API}/api-key-header/start`, headers: { 'x-api-key': LAB_API_KEY } },
          outcome: { status: 200, url: `${CDN}/api-key-header/asset`, bodyIncludes: '"apiKeyReceived":false', redirects: 1 },
          reached: [
            { url: `${API}/api-key-header/start`, headers: { present: ['x-api-key'] } },
            { url: `${CDN}/api-key-header/asset`, headers: { absent: ['x-api-key'] } },
          ],
        },
      ],
    },
  },
  createState: () => null,
  handle(ctx) {
    const route = (ctx.hostname === HOSTS.api && ctx.path === '/start') || (ctx.hostname === HOSTS.cdn && ctx.path === '/asset');
    if (!route) return undefined;
    // A page's fetch() (it sends Origin) gets CORS answers, so a browser can play the story: the
    // preflight for X-Api-Key (Fetch §4.8 "CORS-preflight fetch"), then ACAO on every answer. A
    // request without Origin (hopwise, curl, requests) gets exactly the plain answers below.
    const origin = ctx.headers['origin'];
    if (origin !== undefined && ctx.method === 'OPTIONS') {
      return {
        status: 204,
        headers: [
          ['access-control-allow-origin', origin],
          ['access-control-allow-methods', 'GET'],
          ['access-control-allow-headers', 'X-Api-Key'],
          ['vary', 'Origin'],
        ],
        body: '',
      };
    }
    const cors = (r: LabResponse): LabResponse => (origin === undefined ? r : { ...r, headers: [...r.headers, ['access-control-allow-origin', origin], ['vary', 'Origin']] });
    if (ctx.hostname === HOSTS.api) {
      if (!ctx.headers['x-api-key']) return cors(text(401, 'missing X-Api-Key'));
      return cors(redirect(302, `${CDN}/api-key-header/asset`));
    }
    return cors(json(200, { asset: 'public', apiKeyReceived: ctx.headers['x-api-key'] !== undefined }));
  },
});

// ---------------------------------------------------------------------------------------------
// 15. SameSite=Strict session cookie lost on the way back from an identity provider (browser only)
// ---------------------------------------------------------------------------------------------
const IDP = `https://${HOSTS.idp}`;

const sameSiteStrictIdp = def<{ sessions: Map<string, string | null> }>({
  info: {
    id: 'samesite-strict-idp',
    item: 15,
    title: 'SameSite=Strict session cookie lost on the way back from the identity provider',
    story:
      'A browser-only lost session. The app hardens its session cookie with `SameSite=Strict` and sends the user to single sign-on: https://app.hopwise.test/samesite-strict-idp/start sets `sid=…; Path=/; Secure; HttpOnly; SameSite=Strict` and answers 302 to the identity provider https://login.hopwise-idp.test/samesite-strict-idp/authorize. The provider shows its sign-in page (here a page that moves on by itself with a meta refresh to /continue, as if the user had signed in), and /continue answers 302 back to https://app.hopwise.test/samesite-strict-idp/callback. In a browser that navigation was started by the provider\'s page, another site, so the Strict cookie is not sent (RFC 6265bis §5.8.3): the callback answers 401 `no session` although the cookie is in the browser. An HTTP client has no "site for cookies" and sends it. /start-lax sets the same cookie with `SameSite=Lax`, which goes on a top-level GET navigation from another site: the fix.',
    problem: 'lost-session',
    entryOrigin: APP,
    entryPath: '/start',
    hosts: [HOSTS.app, HOSTS.idp],
    expect: {
      summary:
        'An HTTP client stops at the provider\'s page (a meta refresh); following it (followMetaRefresh) it comes back to /callback with the cookie: 200 "Hello, alice". A browser comes back without it: 401 "no session".',
      cause: 'SameSite=Strict: a browser does not send the cookie on a navigation that another site (the identity provider) started; the server should use SameSite=Lax for the session.',
      cases: [
        {
          name: 'default',
          setup: 'a session with a cookie jar, default options',
          findings: ['client-side-redirect'],
          request: { method: 'GET', url: `${APP}/samesite-strict-idp/start` },
          outcome: { status: 200, url: `${IDP}/samesite-strict-idp/authorize`, bodyIncludes: 'http-equiv="refresh"', redirects: 1 },
          notReached: [`${APP}/samesite-strict-idp/callback`],
        },
        {
          name: 'follow-meta-refresh',
          setup: 'followMetaRefresh: true (CLI --follow-meta-refresh); hopwise is not a browser, so SameSite does not apply',
          findings: ['client-side-redirect'],
          request: { method: 'GET', url: `${APP}/samesite-strict-idp/start` },
          options: { followMetaRefresh: true },
          outcome: { status: 200, url: `${APP}/samesite-strict-idp/callback`, bodyIncludes: 'Hello, alice' },
          reached: [{ url: `${APP}/samesite-strict-idp/callback`, cookies: { present: ['sid'] } }],
        },
      ],
    },
  },
  createState: () => ({ sessions: new Map() }),
  handle(ctx) {
    if (ctx.hostname === HOSTS.app && (ctx.path === '/start' || ctx.path === '/start-lax')) {
      const sid = newSid();
      ctx.state.sessions.set(sid, loginUser(ctx));
      const sameSite = ctx.path === '/start' ? 'Strict' : 'Lax';
      return redirect(302, `${IDP}/samesite-strict-idp/authorize`, [['set-cookie', `sid=${sid}; Path=/; Secure; HttpOnly; SameSite=${sameSite}`]]);
    }
    if (ctx.hostname === HOSTS.idp && ctx.path === '/authorize') {
      return html(200, `<!doctype html><title>Sign in</title><meta http-equiv="refresh" content="0; url=/samesite-strict-idp/continue"><p>Signing you in…</p>`);
    }
    if (ctx.hostname === HOSTS.idp && ctx.path === '/continue') return redirect(302, `${APP}/samesite-strict-idp/callback`);
    if (ctx.hostname === HOSTS.app && ctx.path === '/callback') return greet(sessionUser(ctx, ctx.state.sessions));
    return undefined;
  },
});

// ---------------------------------------------------------------------------------------------
// 16. SameSite=Lax session cookie not sent on the identity provider's form_post (browser only)
// ---------------------------------------------------------------------------------------------
const sameSiteLaxFormPost = def<{ sessions: Map<string, string | null> }>({
  info: {
    id: 'samesite-lax-form-post',
    item: 16,
    title: "SameSite=Lax session cookie not sent on the identity provider's form_post back to the app",
    story:
      "The OpenID Connect `response_mode=form_post` story, browser only. https://app.hopwise.test/samesite-lax-form-post/start keeps the login state in `sid=…; Path=/; Secure; HttpOnly; SameSite=Lax` and answers 302 to the identity provider https://login.hopwise-idp.test/samesite-lax-form-post/authorize. The provider answers with a page holding a form that posts the code back to https://app.hopwise.test/samesite-lax-form-post/callback and submits itself. That POST is a cross-site request, and a Lax cookie (also a cookie without SameSite, Lax by default in Chromium) goes on a cross-site top-level navigation only with a safe method (RFC 6265bis §5.8.3): the browser leaves it out and the callback answers 401 `no session`. An HTTP client does not run the page's form at all. /start-none sets the cookie with `SameSite=None; Secure`, which the form post carries: the fix (or response_mode=query, a GET back).",
    problem: 'lost-session',
    entryOrigin: APP,
    entryPath: '/start',
    hosts: [HOSTS.app, HOSTS.idp],
    expect: {
      summary: 'An HTTP client stops at the provider\'s page (a form it does not submit); a browser posts the form to /callback without the Lax cookie: 401 "no session".',
      cause:
        "SameSite=Lax: a browser does not send the cookie on a cross-site POST, which is what the identity provider's form_post is; the server should use response_mode=query or SameSite=None; Secure.",
      cases: [
        {
          name: 'default',
          setup: 'a session with a cookie jar, any options (an HTTP client does not submit forms)',
          findings: [],
          request: { method: 'GET', url: `${APP}/samesite-lax-form-post/start` },
          outcome: { status: 200, url: `${IDP}/samesite-lax-form-post/authorize`, bodyIncludes: 'form_post', redirects: 1 },
          notReached: [`${APP}/samesite-lax-form-post/callback`],
        },
      ],
    },
  },
  createState: () => ({ sessions: new Map() }),
  handle(ctx) {
    if (ctx.hostname === HOSTS.app && (ctx.path === '/start' || ctx.path === '/start-none')) {
      const sid = newSid();
      ctx.state.sessions.set(sid, loginUser(ctx));
      const sameSite = ctx.path === '/start' ? 'Lax' : 'None';
      return redirect(302, `${IDP}/samesite-lax-form-post/authorize`, [['set-cookie', `sid=${sid}; Path=/; Secure; HttpOnly; SameSite=${sameSite}`]]);
    }
    if (ctx.hostname === HOSTS.idp && ctx.path === '/authorize') {
      return html(
        200,
        `<!doctype html><title>Signing you in</title><!-- response_mode=form_post -->` +
          `<form method="post" action="${APP}/samesite-lax-form-post/callback"><input type="hidden" name="code" value="lab-code"><input type="hidden" name="state" value="lab"></form>` +
          `<script>document.forms[0].submit()</script>`,
      );
    }
    if (ctx.hostname === HOSTS.app && ctx.path === '/callback') return greet(sessionUser(ctx, ctx.state.sessions));
    return undefined;
  },
});

export const SCENARIOS: readonly ScenarioDef[] = [
  sameOriginAuth,
  crossOriginAuth,
  openRedirect,
  postRedirects,
  loginSession,
  cookiePath,
  metaRefresh,
  subdomainCookie,
  httpsUpgrade,
  httpsDowngrade,
  roundRobin,
  redirectLoop,
  longChain,
  upload307,
  apiKeyHeader,
  sameSiteStrictIdp,
  sameSiteLaxFormPost,
];

export function scenarioInfo(d: ScenarioDef): ScenarioInfo {
  const { entryOrigin, entryPath, ...rest } = d.info;
  return { ...rest, entry: `${entryOrigin}/${d.info.id}${entryPath}` };
}
