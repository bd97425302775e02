/**
 * A real redis-server for a test file: Debian's `redis-server`, on a free loopback port, with no
 * persistence (`--save '' --appendonly no`), stopped when the file ends. Tests that need it skip
 * with one line (`REDIS_SKIP`) where it is not installed; `.ci/run` installs it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { createClient } from 'redis';

const BINARY = process.env.REDIS_SERVER ?? 'redis-server';

/** Why the Redis tests skip here, or false when redis-server can run. */
export const REDIS_SKIP: string | false = spawnSync(BINARY, ['--version'], { stdio: 'ignore' }).status === 0 ? false : 'redis-server is not installed (apt-get install redis-server)';

export interface RedisServer {
  url: string;
  port: number;
  /** Stop the server at once (SIGKILL): a crash, as far as its clients can tell. */
  kill(): Promise<void>;
  /** Freeze it (SIGSTOP): connections stay open, nothing answers. `resume()` (SIGCONT) thaws it. */
  pause(): void;
  resume(): void;
  /** Start it again on the same port (empty: it keeps nothing). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => (sock.destroy(), resolve(true)));
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error('redis-server did not start within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startRedis(): Promise<RedisServer> {
  let port = await freePort();
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    child = spawn(BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: 'ignore' });
    try {
      await waitForPort(port, child);
    } catch (err) {
      // The port was taken between the check and the start: another one.
      child.kill('SIGKILL');
      port = await freePort();
      throw err;
    }
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
  const kill = async (): Promise<void> => {
    const c = child;
    if (c.exitCode !== null || (c.signalCode !== null && c.signalCode !== 'SIGSTOP' && c.signalCode !== 'SIGCONT')) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    get port() {
      return port;
    },
    kill,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    restart: launch,
    stop: kill,
  };
}

/** A plain client, for a test to look at (or change) what is in Redis. */
export async function redisClient(url: string) {
  const c = createClient({ url });
  c.on('error', () => {});
  await c.connect();
  return c;
}
