import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMomentsSimulator, type MomentsSimulator, type MomentsSimulatorOptions } from '../../simulators/moments/moments-simulator.js';
import { runCli } from '../helpers/cli.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});

let sim: MomentsSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function configFor(options: MomentsSimulatorOptions, extra = ''): Promise<string> {
  sim = await startMomentsSimulator(options);
  const file = join(mkdtempSync(join(tmpdir(), 'mb-check-online-')), 'config.yaml');
  writeFileSync(
    file,
    `redis: { url: "${redis.url}" }
sources:
  engine:
    type: moments
    cognitoEndpoint: "${sim.cognitoEndpoint}"
    graphqlUrl: "${sim.graphqlUrl}"
    clientId: sim-client
    username: demo
    password: demo-password
${extra}`,
  );
  return file;
}

describe('moments-bridge check --online', () => {
  it('prints the document of each operation and where it came from (vendor schema, introspection)', async () => {
    const file = await configFor({ schema: 'vendor' });
    const result = await runCli(['check', '--online', '-c', file]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('sources.engine: introspection answered');
    for (const op of ['listMoments', 'getMoment', 'listTriggers', 'getTrigger', 'onCreateMoment', 'onCreateTrigger', 'onUpdateTrigger'])
      expect(result.stdout).toContain(`  ${op}  (from introspection)`);
    expect(result.stdout).toContain('$filter: MomentFilter');
    expect(result.stdout).toMatch(/triggerObject \{ publicId/);
    expect(result.stdout).toContain('back-fill: createdAt ge <cursor>, orderBy [{ createdAt: ASC }]');
  });

  it('introspection refused and no documents: exit 1, one message per operation naming the config key', async () => {
    const file = await configFor({ schema: 'vendor', introspection: false });
    const result = await runCli(['check', '--online', '-c', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('sources.engine: introspection refused');
    expect(result.stderr).toMatch(
      /^moments-bridge: listMoments: the engine refused introspection \(.+\) and sources\.engine\.documents\.listMoments is not set: add the query there \(see docs\/moments-engine\.md#graphql-documents\)$/m,
    );
    expect(result.stderr).toMatch(
      /^onUpdateTrigger: the engine refused introspection .* sources\.engine\.documents\.onUpdateTrigger is not set: add the subscription there/m,
    );
    // getMoment is not used by the daemon: reported, not a failure.
    expect(result.stderr).not.toContain('documents.getMoment');
  });

  it('a configured document wins and is shown as such; a wrong one is rejected naming its key', async () => {
    const good =
      'query Mine($filter: MomentFilter, $limit: Int, $nextToken: String) { listMoments(filter: $filter, limit: $limit, nextToken: $nextToken) { items { publicId createdAt } nextToken } }';
    let file = await configFor({ schema: 'vendor' }, `    documents:\n      listMoments: '${good}'\n`);
    let result = await runCli(['check', '--online', '-c', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('  listMoments  (from config: sources.engine.documents.listMoments)');
    expect(result.stdout).toContain('no orderBy: sorted client-side');
    await sim!.stop();
    const amplifyStyle = 'query L($filter: ModelMomentFilterInput) { listMoments(filter: $filter) { items { publicId createdAt } } }';
    file = await configFor({ schema: 'vendor' }, `    documents:\n      listMoments: '${amplifyStyle}'\n`);
    result = await runCli(['check', '--online', '-c', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'listMoments (from sources.engine.documents.listMoments) was rejected by the engine: Unknown type "ModelMomentFilterInput".',
    );
    expect(result.stderr).toContain('fix that document');
  });
});
