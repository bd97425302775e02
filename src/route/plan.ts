/**
 * planRoute: one hop's route (direct, or via which proxy, in which mode) and its proxy credential.
 * Pure over the settings read at construction plus the chain's route state. Proxy-Authorization is
 * judged by route, never by origin: a credential goes to the proxy the hop uses and nowhere else.
 *
 * - Credentials bound to a proxy (its URL's userinfo, or the proxyAuth option) go to that proxy on
 *   every hop that uses it; a hop on another route does not get them, and the trace says so.
 * - A caller-set Proxy-Authorization header is bound to the first hop's route: sent only to that
 *   proxy, never to an origin, dropped for good once the route changes (compare golang/go#79792,
 *   axios GHSA-j5f8-grm9-p9fc, curl#21578).
 */
import * as decide from '../trace/decisions.js';
import type { Decision, ProxyAuthDecision } from '../trace/types.js';
import { route as connectToRoute, type ConnectToRule } from '../transport/connect-to.js';
import { chooseRoute, proxyOrigin, routeName, type ProxySettings, type Route } from '../transport/proxy.js';

type Source = ProxyAuthDecision['facts']['source'];

/** What the chain remembers about routes between hops. */
export interface RouteState {
  /** The previous hop's route name. */
  previous: string | undefined;
  /** The source of the proxy credential the previous hop sent, if any. */
  previousSent: Source | undefined;
  /** The caller's Proxy-Authorization header value, until it is dropped. */
  callerHeader: string | undefined;
  /** The route the caller's header is bound to (the first hop's). */
  callerRoute: string | undefined;
}

export interface RoutePlan {
  route: Route;
  name: string;
  /** For a proxied hop: absolute-form request, or a CONNECT tunnel. */
  mode: 'absolute-form' | 'tunnel' | undefined;
  /** The Proxy-Authorization value for the proxy (never put in the request headers). */
  token: string | undefined;
  decisions: Decision[];
}

export interface RouteInput {
  settings: ProxySettings;
  url: URL;
  connectTo: readonly ConnectToRule[];
  proxyAuth: string | undefined;
  /** The caller's own dispatcher connects: nothing to decide. */
  callerDispatcher: boolean;
  state: RouteState;
}

const basic = (userinfo: string): string => `Basic ${Buffer.from(userinfo, 'utf8').toString('base64')}`;

export function planRoute(input: RouteInput): RoutePlan {
  const { url, state } = input;
  const decisions: Decision[] = [];
  const route: Route = input.callerDispatcher ? { kind: 'direct', reason: 'direct' } : chooseRoute(input.settings, url);
  const name = input.callerDispatcher ? "the caller's dispatcher" : routeName(route);
  const changed = state.previous !== undefined && state.previous !== name;
  let mode: RoutePlan['mode'];
  if (route.kind === 'proxy') {
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const mapped = connectToRoute(input.connectTo, url.hostname, port);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const rerouted = mapped.host !== host.toLowerCase() || mapped.port !== port;
    mode = url.protocol === 'https:' || route.proxy.url.protocol === 'https:' || rerouted ? 'tunnel' : 'absolute-form';
  }
  const facts: decide.RouteFacts = { kind: route.kind, reason: input.callerDispatcher ? 'caller-dispatcher' : route.reason, route: name };
  if (route.kind === 'proxy') {
    facts.proxy = proxyOrigin(route.proxy);
    if (route.proxy.variable !== undefined) facts.variable = route.proxy.variable;
  } else {
    if (route.noProxy !== undefined) facts.noProxy = route.noProxy;
    if (route.variable !== undefined) facts.variable = route.variable;
  }
  if (mode !== undefined) facts.mode = mode;
  if (changed) facts.previous = state.previous;
  decisions.push(decide.route.decided(facts));

  // The caller's header: bound to the first hop's route, dropped for good when the route changes.
  let token: string | undefined;
  let source: Source | undefined;
  if (state.callerHeader !== undefined) {
    if (state.callerRoute === undefined) state.callerRoute = name;
    if (route.kind === 'direct') {
      decisions.push(state.callerRoute === name ? decide.proxyAuth.direct('caller-header') : decide.proxyAuth.routeChanged('caller-header', name, state.callerRoute));
      state.callerHeader = undefined;
    } else if (state.callerRoute !== name) {
      decisions.push(decide.proxyAuth.routeChanged('caller-header', name, state.callerRoute));
      state.callerHeader = undefined;
    } else {
      token = state.callerHeader;
      source = 'caller-header';
    }
  }
  if (route.kind === 'proxy' && token === undefined) {
    if (route.proxy.userinfo !== undefined) {
      token = basic(route.proxy.userinfo);
      source = 'proxy-url';
    } else if (input.proxyAuth !== undefined) {
      token = basic(input.proxyAuth);
      source = 'proxyAuth';
    }
  }
  // A credential the previous hop sent to its proxy stays with that route.
  if (changed && state.previousSent !== undefined && state.previousSent !== 'caller-header' && state.previous !== undefined) {
    decisions.push(decide.proxyAuth.routeChanged(state.previousSent, name, state.previous));
  }
  if (token !== undefined && source !== undefined) decisions.push(decide.proxyAuth.sent(source, name));
  state.previous = name;
  state.previousSent = token !== undefined ? source : undefined;
  return { route, name, mode, token, decisions };
}
