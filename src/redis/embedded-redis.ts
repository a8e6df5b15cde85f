import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join, resolve } from 'node:path';
import { BridgeError } from '../core/errors.js';
import { pidIdentity, probeRedis, sameDir } from './redis-identity.js';

export interface EmbeddedRedisOptions {
  /** Data directory (AOF lives here). @defaultValue `./.data/redis` */
  dataDir?: string;
  /** Port to listen on (127.0.0.1 only). @defaultValue a free port */
  port?: number;
  /** `appendonly yes` with `appendfsync everysec`. @defaultValue true */
  appendOnly?: boolean;
  /** redis-server binary. @defaultValue `redis-server` from PATH */
  binary?: string;
  /** How long to wait for PING. @defaultValue 10000 */
  startTimeoutMs?: number;
}

export const REDIS_MISSING_HINT =
  "redis-server is not installed — install it with 'sudo apt-get install redis-server' (or 'brew install redis'), or set redis.url to an existing Redis.";

const PORT_FILE = 'moments-bridge-redis.json';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort so a crashing parent never leaves an orphan behind (graceful stop uses stop()).
  process.on('exit', () => {
    for (const child of live) child.kill('SIGTERM');
  });
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A child `redis-server` bound to 127.0.0.1 with AOF on, for `redis: embedded` and for tests.
 * A pid file in the data dir lets the next start stop a server left behind by a killed parent —
 * only after /proc shows that pid is a redis-server running in this data dir (a stale file after
 * a reboot names an unrelated process). Without /proc (not Linux) nothing is signalled.
 */
export class EmbeddedRedis {
  readonly dataDir: string;
  readonly appendOnly: boolean;
  private readonly binary: string;
  private readonly startTimeoutMs: number;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  port: number;

  constructor(options: EmbeddedRedisOptions = {}) {
    this.dataDir = resolve(options.dataDir ?? './.data/redis');
    this.appendOnly = options.appendOnly ?? true;
    this.binary = options.binary ?? 'redis-server';
    this.startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.port = options.port ?? 0;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (spawnSync(this.binary, ['--version'], { stdio: 'ignore' }).error) {
      throw new BridgeError('redis_missing', REDIS_MISSING_HINT);
    }
    mkdirSync(this.dataDir, { recursive: true });
    await this.stopLeftover();
    if (!this.port) this.port = await freePort();
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dataDir,
      '--save',
      '',
      '--appendonly',
      this.appendOnly ? 'yes' : 'no',
      '--appendfsync',
      'everysec',
      '--daemonize',
      'no',
      '--protected-mode',
      'yes',
      '--loglevel',
      'warning',
    ];
    // Its own process group: Ctrl-C in a terminal signals the whole foreground group, and Redis
    // must outlive the daemon's graceful stop (which still hands jobs back to it); stop() ends it.
    const child = spawn(this.binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.child = child;
    live.add(child);
    installExitHook();
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    this.exited = new Promise((res) =>
      child.once('exit', () => {
        live.delete(child);
        res();
      }),
    );
    writeFileSync(this.pidFile, String(child.pid));
    // Lets CLI tools (`dlq`, `replay`, `backfill`) find the running server from the same config.
    writeFileSync(this.portFile, JSON.stringify({ pid: child.pid, port: this.port }));
    const deadline = Date.now() + this.startTimeoutMs;
    while (!(await this.ping())) {
      if (child.exitCode !== null)
        throw new BridgeError('redis_start_failed', `redis-server exited with code ${child.exitCode}: ${stderr.trim() || 'no output'}`);
      if (Date.now() > deadline) {
        await this.stop();
        throw new BridgeError('redis_start_failed', `redis-server did not answer PING on 127.0.0.1:${this.port} within ${this.startTimeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Stops the server (SIGTERM: Redis flushes the AOF) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.pidFile, { force: true });
    rmSync(this.portFile, { force: true });
  }

  /** Kills the server without letting it flush (for chaos tests). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.kill('SIGKILL');
    await this.exited;
    rmSync(this.pidFile, { force: true });
    rmSync(this.portFile, { force: true });
  }

  /** Stop then start on the same port and data dir (AOF replays). */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /**
   * The embedded server another process (a running daemon) started on `dataDir`, if it is still
   * alive: its URL and pid. Read from the file `start()` writes, and trusted only when the server
   * on that port answers that it is that pid serving this data dir; a file naming a live Redis
   * that is not is refused, so `dlq purge` cannot be pointed at someone else's Redis.
   */
  static async findRunning(dataDir: string): Promise<{ url: string; port: number; pid: number } | undefined> {
    const file = join(resolve(dataDir), PORT_FILE);
    if (!existsSync(file)) return undefined;
    let pid: unknown;
    let port: unknown;
    try {
      ({ pid, port } = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown; port?: unknown });
    } catch {
      return undefined;
    }
    if (typeof pid !== 'number' || typeof port !== 'number' || !isRunning(pid)) return undefined;
    const probe = await probeRedis(port);
    if (!probe) return undefined; // nothing answers: a stale file
    if (probe.pid !== pid || !sameDir(probe.dir, dataDir)) {
      throw new BridgeError(
        'redis_port_untrusted',
        `${file} names the Redis on 127.0.0.1:${port} (pid ${probe.pid}), which is not the embedded redis-server of ${resolve(dataDir)}: it serves ${probe.dir}${probe.pid !== pid ? ` and is not pid ${pid}` : ''}. Not connecting to it. If no daemon runs with this config, delete ${file}; or pass --redis <url>.`,
      );
    }
    return { url: `redis://127.0.0.1:${port}`, port, pid };
  }

  private get portFile(): string {
    return join(this.dataDir, PORT_FILE);
  }

  private get pidFile(): string {
    return join(this.dataDir, 'moments-bridge-redis.pid');
  }

  /** Stops the server a killed parent left running on this data dir, if the pid file names one. */
  private async stopLeftover(): Promise<void> {
    if (!existsSync(this.pidFile)) return;
    const pid = Number(readFileSync(this.pidFile, 'utf8'));
    if (pid && isRunning(pid)) {
      const identity = pidIdentity(pid, this.dataDir);
      if (identity === 'ours') {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        const until = Date.now() + 5_000;
        while (isRunning(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      } else if (identity === 'unknown') {
        // No /proc to tell what the pid is: never signal it. Only refuse to start when a server of
        // this data dir still answers, since two servers must not share one AOF.
        const running = await EmbeddedRedis.findRunning(this.dataDir).catch(() => undefined);
        if (running) {
          throw new BridgeError(
            'redis_leftover',
            `a redis-server from an earlier run (pid ${running.pid}) still serves ${this.dataDir} on 127.0.0.1:${running.port}; this platform has no /proc to verify it before signalling, so stop it yourself (redis-cli -p ${running.port} shutdown) and start again`,
          );
        }
      }
      // 'foreign': the pid now belongs to another process (reused after a reboot): leave it be.
    }
    rmSync(this.pidFile, { force: true });
  }

  private ping(): Promise<boolean> {
    return new Promise((res) => {
      const sock = connect(this.port, '127.0.0.1');
      sock.setTimeout(500);
      sock.once('connect', () => sock.write('PING\r\n'));
      sock.once('data', (d) => {
        sock.destroy();
        res(d.toString().startsWith('+PONG'));
      });
      sock.once('error', () => res(false));
      sock.once('timeout', () => {
        sock.destroy();
        res(false);
      });
    });
  }
}
