/**
 * `hopwise/lab`: a local multi-origin redirect server that reproduces real "my token / my session
 * disappeared after a redirect" failures, for anyone's test suite.
 *
 *   const lab = await startLab();
 *   // route the lab's logical hosts (app.hopwise.test:443, ...) to the real ports:
 *   //   lab.connectTo = [':80:127.0.0.1:<p>', ':443:127.0.0.1:<p>', ':8080:127.0.0.1:<p>']
 *   // and trust lab.ca (PEM) / lab.caPath for TLS.
 *   await client.get(lab.url('cross-origin-auth'));
 *   lab.received('cross-origin-auth'); // what the server saw at each hop
 *   // or, for a client that reads HTTPS_PROXY: lab.proxyUrl, and trust lab.caPath
 *   await lab.close();
 *
 * The lab depends on nothing else in hopwise: it is a plain server, so it can test any client.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLabCertificates } from './certs.js';
import { LabServer } from './server.js';
import { LAB_HOSTNAMES, SCENARIOS, scenarioInfo, LAB_TOKEN, LAB_API_KEY } from './scenarios.js';
import type { Lab, LabOptions, ScenarioInfo } from './types.js';

export type { Lab, LabOptions, ScenarioInfo, ScenarioExpect, ExpectCase, ReachedExpect, ReceivedRequest } from './types.js';
export { LAB_TOKEN, LAB_API_KEY };

/** Hostnames the lab answers for (all in the TLS certificate). */
export const LAB_HOSTS: readonly string[] = LAB_HOSTNAMES;

/** Scenario descriptions without starting a server (entry URLs are logical and port-independent). */
export function labScenarios(): ScenarioInfo[] {
  return SCENARIOS.map((d) => structuredClone(scenarioInfo(d)));
}

function connectHost(bind: string): string {
  if (bind === '0.0.0.0' || bind === '') return '127.0.0.1';
  if (bind === '::') return '[::1]';
  return bind.includes(':') ? `[${bind}]` : bind;
}

export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const host = options.host ?? '127.0.0.1';
  const certs = createLabCertificates(LAB_HOSTNAMES);
  const server = new LabServer({ host, tls: { key: certs.key, cert: certs.cert } });
  await server.listen();

  let dir: string;
  try {
    dir = mkdtempSync(join(tmpdir(), 'hopwise-lab-'));
    writeFileSync(join(dir, 'ca.pem'), certs.caCert, { mode: 0o644 });
  } catch (err) {
    await server.close();
    throw err;
  }
  const caPath = join(dir, 'ca.pem');

  const target = connectHost(host);
  const connectTo = [`:80:${target}:${server.ports.http}`, `:443:${target}:${server.ports.https}`, `:8080:${target}:${server.ports.alt}`];
  const defs = new Map(SCENARIOS.map((d) => [d.info.id, d]));
  const scenarios = labScenarios();
  let closing: Promise<void> | undefined;

  const lab: Lab = {
    url(scenario: string, path?: string): string {
      const d = defs.get(scenario);
      if (!d) throw new Error(`hopwise lab: unknown scenario '${scenario}' (known: ${[...defs.keys()].join(', ')})`);
      if (path === undefined) return scenarioInfo(d).entry;
      const rel = path.startsWith('/') ? path : `/${path}`;
      return `${d.info.entryOrigin}/${scenario}${rel}`;
    },
    connectTo,
    ca: certs.caCert,
    caPath,
    scenarios,
    hosts: [...LAB_HOSTNAMES],
    ports: { ...server.ports },
    proxyUrl: `http://${target}:${server.proxyPort}`,
    received: (scenario) => server.received(scenario),
    reset: (scenario) => server.reset(scenario),
    close(): Promise<void> {
      closing ??= server.close().finally(() => rmSync(dir, { recursive: true, force: true }));
      return closing;
    },
  };
  return lab;
}
