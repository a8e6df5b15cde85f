import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('moments-bridge run: Redis unreachable', () => {
  it('names the URL it tried (password redacted) and what to do, exit 2 — not a bare "Connection is closed."', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const file = join(mkdtempSync(join(tmpdir(), 'mb-run-redis-')), 'config.yaml');
    writeFileSync(file, `redis: { url: "redis://:hunter2@127.0.0.1:${port}/0" }\nserver: { enabled: false }\nlog: { format: json }\n`);
    const result = await runCli(['run', '-c', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(
        `^moments-bridge: cannot connect to Redis at redis://:<secret>@127\\.0\\.0\\.1:${port}/0: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\. Start Redis there, or fix redis\\.url`,
        'm',
      ),
    );
    expect(result.stderr).not.toContain('Connection is closed');
    expect(result.stdout + result.stderr).not.toContain('hunter2');
  });
});
