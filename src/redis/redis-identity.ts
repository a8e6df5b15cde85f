import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { Redis } from 'ioredis';

/**
 * Answers "is this the redis-server the bridge started on this data dir?" before anything trusts a
 * pid or port file, which survive reboots and can be written by anyone who can write the data dir.
 */

/** What /proc says about a pid: ours, something else, or unknown (no /proc: not Linux). */
export type PidIdentity = 'ours' | 'foreign' | 'unknown';

/**
 * `ours` when `/proc/<pid>/cmdline` names redis-server and `/proc/<pid>/cwd` is the data dir
 * (redis-server chdirs into its `--dir`; its argv is rewritten to a title, so the dir is not in it).
 */
export function pidIdentity(pid: number, dataDir: string, procRoot = '/proc'): PidIdentity {
  if (!existsSync(`${procRoot}/self`)) return 'unknown';
  try {
    const cmdline = readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    if (!cmdline.includes('redis-server')) return 'foreign';
    return realpathSync(`${procRoot}/${pid}/cwd`) === realpathSync(dataDir) ? 'ours' : 'foreign';
  } catch {
    return 'foreign'; // gone, or another user's process (cwd unreadable): not one we started
  }
}

export interface RedisProbe {
  /** `CONFIG GET dir`: the server's data dir. */
  dir: string;
  /** `INFO server` process_id. */
  pid: number;
}

/** Asks the Redis on 127.0.0.1:port for its data dir and pid; undefined when nothing answers as Redis. */
export async function probeRedis(port: number, timeoutMs = 1_000): Promise<RedisProbe | undefined> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined); // the failed command reports it
  try {
    await client.connect();
    const [, dir] = (await client.config('GET', 'dir')) as [string, string];
    const pid = Number(/^process_id:(\d+)/m.exec(await client.info('server'))?.[1]);
    return typeof dir === 'string' && pid ? { dir, pid } : undefined;
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

/** Whether two paths name the same directory (symlinks resolved; false if either is gone). */
export function sameDir(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}
