/**
 * A real httpbin (Debian's python3-httpbin, the Flask app nobody here wrote) for tests: served by
 * werkzeug's own server (python3-httpbin depends on python3-werkzeug; gunicorn is only recommended,
 * and CI installs with --no-install-recommends) on 127.0.0.1, port chosen by the OS and printed by the
 * child. One server per test file: start it in `before`, stop it in `after`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

const PYTHON = '/usr/bin/python3';

/** Why httpbin tests cannot run here (one line for `{ skip }`), or undefined when they can. */
export const httpbinMissing: string | undefined = (() => {
  const r = spawnSync(PYTHON, ['-c', 'import httpbin, werkzeug.serving'], { stdio: 'ignore', timeout: 20_000 });
  return r.status === 0 ? undefined : 'python3-httpbin is not installed (apt-get install python3-httpbin)';
})();

// Threaded so that keep-alive (HTTP/1.1, which werkzeug turns on for threaded servers) and a second
// connection never wait on each other; request logging off so test output stays readable.
const SERVE = `
import logging, sys
from werkzeug.serving import make_server
from httpbin import app
logging.getLogger('werkzeug').setLevel(logging.ERROR)
srv = make_server('127.0.0.1', 0, app, threaded=True)
print(srv.server_port, flush=True)
srv.serve_forever()
`;

export interface Httpbin {
  /** 127.0.0.1:<port> */
  address: string;
  port: number;
  /** connectTo rules that send every logical host on port 80 to this httpbin (`http://a.test/get`). */
  connectTo: string[];
  close(): Promise<void>;
}

export async function startHttpbin(): Promise<Httpbin> {
  const child: ChildProcess = spawn(PYTHON, ['-c', SERVE], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + String(c)).slice(-4000)));
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`httpbin did not start within 20 s: ${stderr}`)), 20_000);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill();
      reject(err);
    };
    child.once('exit', (code) => fail(new Error(`httpbin exited (${code}) before listening: ${stderr}`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      const n = Number(line.trim());
      if (Number.isInteger(n) && n > 0) resolve(n);
      else fail(new Error(`httpbin printed ${JSON.stringify(line)} instead of its port: ${stderr}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    address: `127.0.0.1:${port}`,
    port,
    connectTo: [`:80:127.0.0.1:${port}`],
    async close() {
      lines.close();
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill();
      await exited;
    },
  };
}
