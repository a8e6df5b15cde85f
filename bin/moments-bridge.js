#!/usr/bin/env node
// Entry point of the `moments-bridge` command: runs the compiled CLI from dist/.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const major = Number(process.versions.node.split('.')[0]);
if (major < 22 && !process.env.MB_NODE_REEXEC) {
  // Our dependencies need Node >= 22: re-run under Node 24 (scripts/with-node.sh fetches it from the npm registry once).
  const result = spawnSync('bash', [join(root, 'scripts', 'with-node.sh'), 'node', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, MB_NODE_REEXEC: '1' },
  });
  process.exit(result.status ?? 2);
}
const compiled = join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(compiled)) {
  console.error(`moments-bridge: ${compiled} is missing — run "npm run build" (npm install does it) first.`);
  process.exit(2);
}
const { main } = await import(pathToFileURL(compiled).href);
process.exitCode = await main(process.argv);
