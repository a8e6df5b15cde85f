import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, stopCli, type RunningCli } from '../helpers/cli.js';

const running: RunningCli[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((cli) => stopCli(cli)));
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('moments-bridge run', () => {
  it('starts with embedded redis, logs one line per component, and exits 0 on SIGTERM leaving no redis-server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-run-'));
    writeFileSync(
      join(dir, 'config.yaml'),
      ['redis: { url: embedded, dataDir: ./redis }', 'server: { port: 0 }', 'log: { format: json }', 'shutdown: { grace: 3s }', ''].join('\n'),
    );
    const cli = startCli(['run', '-c', join(dir, 'config.yaml')]);
    running.push(cli);
    await cli.waitFor('moments-bridge running');
    const lines = cli
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { component?: string; msg: string; pid?: number });
    const components = lines.map((l) => l.component).filter(Boolean);
    for (const c of ['redis', 'connectors', 'router', 'workers', 'http']) expect(components).toContain(c);
    const redisPid = lines.find((l) => l.component === 'redis')!.pid!;
    expect(isRunning(redisPid)).toBe(true);

    const started = Date.now();
    cli.child.kill('SIGTERM');
    const result = await cli.exited;
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(3_000 + 2_000);
    expect(isRunning(redisPid)).toBe(false);
    expect(result.stdout).toContain('"msg":"stopped"');
  });

  it('Ctrl-C in a terminal (SIGINT to the whole process group) stops gracefully right after start-up: exit 0, no redis-server left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-run-int-'));
    writeFileSync(
      join(dir, 'config.yaml'),
      [
        'redis: { url: embedded, dataDir: ./redis }',
        'server: { port: 0 }',
        'log: { format: json }',
        'shutdown: { grace: 2s }',
        // A connector, so a BullMQ worker is connected to Redis while the daemon stops.
        'connectors: { hooks: { type: webhook, url: "http://127.0.0.1:9/", allowPrivateNetworks: true } }',
        '',
      ].join('\n'),
    );
    const cli = startCli(['run', '-c', join(dir, 'config.yaml')], { detached: true });
    running.push(cli);
    await cli.waitFor('moments-bridge running');
    const redisPid = (
      JSON.parse(
        cli
          .output()
          .split('\n')
          .find((l) => l.includes('"component":"redis"'))!,
      ) as { pid: number }
    ).pid;
    const started = Date.now();
    process.kill(-cli.child.pid!, 'SIGINT'); // what a terminal does: the daemon and its children all get it
    const result = await cli.exited;
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(2_000 + 3_000);
    expect(result.stdout).toContain('"msg":"stopped"');
    expect(result.stdout).not.toContain('did not stop within');
    expect(result.stdout).not.toContain('ECONNREFUSED');
    expect(isRunning(redisPid)).toBe(false);
  });
});
