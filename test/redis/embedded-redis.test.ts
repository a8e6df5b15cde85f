import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectToolRedis } from '../../src/redis/tool-redis.js';
import type { LoadedConfig } from '../../src/config/load-config.js';
import { EmbeddedRedis } from '../../src/redis/embedded-redis.js';

const PID_FILE = 'moments-bridge-redis.pid';
const PORT_FILE = 'moments-bridge-redis.json';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mb-embedded-'));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function started(dataDir: string): Promise<EmbeddedRedis> {
  const server = new EmbeddedRedis({ dataDir, appendOnly: false });
  await server.start();
  cleanups.push(() => server.stop());
  return server;
}

function sleeper(): ChildProcess {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  cleanups.push(() => void child.kill('SIGKILL'));
  return child;
}

/** What connectToolRedis reads of a loaded config. */
function embeddedConfig(dataDir: string): LoadedConfig {
  return { config: { redis: { url: 'embedded', dataDir } }, configDir: dataDir } as unknown as LoadedConfig;
}

describe('embedded redis: pid file', () => {
  it('does not signal an unrelated live process named in a stale pid file, and still starts', async () => {
    const dir = tempDir();
    const other = sleeper();
    writeFileSync(join(dir, PID_FILE), String(other.pid));
    const server = await started(dir);
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(other.pid!)).toBe(true);
    expect(other.signalCode).toBeNull();
    expect(Number(readFileSync(join(dir, PID_FILE), 'utf8'))).toBe(server.pid);
  }, 30_000);

  it('does not signal a redis-server that serves another data dir', async () => {
    const mine = tempDir();
    const theirs = await started(tempDir());
    writeFileSync(join(mine, PID_FILE), String(theirs.pid));
    await started(mine);
    expect(alive(theirs.pid!)).toBe(true);
  }, 30_000);

  it('stops the leftover redis-server of the same data dir (a killed daemon)', async () => {
    const dir = tempDir();
    const first = await started(dir);
    const leftover = first.pid!;
    await started(dir);
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(leftover)).toBe(false);
  }, 30_000);
});

describe('embedded redis: port file', () => {
  it('trusts the port file of the server running on this data dir', async () => {
    const dir = tempDir();
    const server = await started(dir);
    expect(await EmbeddedRedis.findRunning(dir)).toEqual({ url: server.url, port: server.port, pid: server.pid });
    const tool = await connectToolRedis(embeddedConfig(dir));
    expect(tool).toMatchObject({ url: server.url, origin: 'running-daemon' });
  }, 30_000);

  it('does not trust a port file that points at a redis-server on another data dir', async () => {
    const dir = tempDir();
    const other = await started(tempDir());
    writeFileSync(join(dir, PORT_FILE), JSON.stringify({ pid: other.pid, port: other.port }));
    await expect(EmbeddedRedis.findRunning(dir)).rejects.toThrow(
      new RegExp(`127\\.0\\.0\\.1:${other.port} .* is not the embedded redis-server of ${dir}: it serves ${other.dataDir}.*delete ${dir}/${PORT_FILE}`),
    );
    await expect(connectToolRedis(embeddedConfig(dir))).rejects.toThrow(/is not the embedded redis-server of/);
  }, 30_000);

  it('ignores a port file whose server no longer answers (stale after a reboot)', async () => {
    const dir = tempDir();
    const other = sleeper();
    writeFileSync(join(dir, PORT_FILE), JSON.stringify({ pid: other.pid, port: 9 }));
    expect(await EmbeddedRedis.findRunning(dir)).toBeUndefined();
  }, 30_000);
});
