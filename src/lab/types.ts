/**
 * Public types of the lab (`hopwise/lab`). Plain data only: the lab is a server and depends on
 * nothing else in hopwise (the one type import below names the doctor's finding codes; it emits no
 * code).
 */
import type { FindingCode } from '../doctor/index.js';

export type { FindingCode };

/** One request as the lab saw it (the server side of a hop). */
export interface ReceivedRequest {
  /** Scenario id the request was routed to (the first path segment). */
  scenario: string;
  /** Logical host as in `URL.host`: hostname, plus `:port` when the port is not the scheme's default. */
  host: string;
  method: string;
  /** Full logical URL, e.g. `https://cdn.hopwise.test/cross-origin-auth/resource`. */
  url: string;
  /** Path and query as received (the request target). */
  path: string;
  /**
   * Request headers with lower-case names and values as received. Nothing is redacted: this is what
   * the server got, `authorization` and `cookie` included. A repeated header is joined with `, `
   * (`cookie` with `; `).
   */
  headers: Record<string, string>;
  /** Bytes of request body read (the lab reads every body to its end). */
  bodySize: number;
  /** `Date.now()` when the request's headers arrived. */
  time: number;
  /** Status the lab answered with; set just before the response is written (absent until then). */
  status?: number;
}

/** What a client should see at one URL of a chain, checked against `received()`. */
export interface ReachedExpect {
  url: string;
  method?: string;
  bodySize?: number;
  /** Lower-case request header names that must / must not have arrived at this URL. */
  headers?: { present?: string[]; absent?: string[] };
  /** Cookie names that must / must not have arrived at this URL. */
  cookies?: { present?: string[]; absent?: string[] };
}

/** One way of running a scenario, and what a careful client ends with. */
export interface ExpectCase {
  /** Short kebab-case name of the case, unique within its scenario. */
  name: string;
  /** The client setup in words. */
  setup: string;
  /**
   * The finding codes hopwise's doctor reports for this case, `info` notes included (compared as a
   * set). The one record of them: `hopwise demo`, the CLI end-to-end test and the README's table
   * of scenarios are checked against it.
   */
  findings: FindingCode[];
  /** The first request. Headers here are set by the user as raw request headers. */
  request: { method: string; url: string; headers?: Record<string, string>; body?: string };
  /**
   * Session options for this setup, named as in DESIGN.md (`trust`, `allowDowngrade`,
   * `crossOriginBody`, `maxRedirects`, `followMetaRefresh` — the CLI's `--follow-meta-refresh`).
   */
  options?: Record<string, unknown>;
  /** A scoped auth provider instead of a raw header (`bearer(token, { scope })`, `header(name, value, { scope })`). */
  auth?: { kind: 'bearer'; token: string; scope?: string[] } | { kind: 'header'; name: string; value: string; scope?: string[] };
  outcome: {
    /** Final status (absent when the outcome is an error). */
    status?: number;
    /** Final URL. */
    url?: string;
    /** Text the final body contains. */
    bodyIncludes?: string;
    /** Headers of the final response (lower-case names). */
    headers?: Record<string, string>;
    /** Error code a careful client stops with (hopwise's `err.code`). */
    error?: string;
    /** Redirects followed (successful outcomes). */
    redirects?: number;
  };
  /** URLs that must have been reached, and what must / must not have arrived there. */
  reached?: ReachedExpect[];
  /** URLs the lab must never see in this case. */
  notReached?: string[];
}

export interface ScenarioExpect {
  /** What a correct client does, in one or two sentences. */
  summary: string;
  /** Why the naive client fails, in one sentence (what the doctor should name). */
  cause: string;
  cases: ExpectCase[];
}

export interface ScenarioInfo {
  /** Short kebab-case id; also the path prefix of every URL of the scenario. */
  id: string;
  /**
   * The scenario's number in the lab's list (`hopwise lab`): 1–14 for what any client meets, 15 and 16 for
   * what only a browser meets. 12 has two ids, the two ways a chain never ends: a loop, and a chain too long.
   */
  item: number;
  title: string;
  /** One paragraph: the real-world story the scenario reproduces. */
  story: string;
  /** The story it belongs to: a token lost after a redirect, or a session lost after a redirect. */
  problem?: 'lost-token' | 'lost-session';
  /** Entry URL (logical; reach it through `connectTo`). */
  entry: string;
  /** Hostnames the scenario uses. */
  hosts: string[];
  expect: ScenarioExpect;
}

export interface LabOptions {
  /** Bind address of the three listeners. Default '127.0.0.1'. */
  host?: string;
}

export interface Lab {
  /** Entry URL of a scenario, or `path` (relative to the scenario prefix) on the scenario's entry origin. */
  url(scenario: string, path?: string): string;
  /** curl / hopwise `--connect-to` rules: `:80:127.0.0.1:<http>`, `:443:127.0.0.1:<tls>`, `:8080:127.0.0.1:<alt>`. */
  readonly connectTo: string[];
  /** PEM of the CA generated for this run. */
  readonly ca: string;
  /** Path of a temporary file holding `ca` (removed by close()). */
  readonly caPath: string;
  readonly scenarios: ScenarioInfo[];
  /** Every lab hostname (all covered by the TLS certificate). */
  readonly hosts: string[];
  /** The real ports on the bind address. */
  readonly ports: { http: number; https: number; alt: number };
  /**
   * A forward proxy (`http://127.0.0.1:<port>`) that routes the lab's hostnames to the lab: plain
   * requests in absolute form, and CONNECT as a TCP tunnel to the lab's TLS listener. Point any
   * client's HTTP_PROXY / HTTPS_PROXY at it and trust `caPath`; no connect-to rules needed.
   */
  readonly proxyUrl: string;
  /** Requests the lab saw for a scenario, in arrival order (copies). */
  received(scenario: string): ReceivedRequest[];
  /** Forget received requests and server-side state (sessions, rotations) of one or all scenarios. */
  reset(scenario?: string): void;
  close(): Promise<void>;
}
