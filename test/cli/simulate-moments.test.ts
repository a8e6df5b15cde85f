import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { gql, idToken } from '../simulators/moments/sim-client.js';

let cli: RunningCli | undefined;

afterEach(async () => {
  if (cli && cli.child.exitCode === null) {
    cli.child.kill('SIGTERM');
    await cli.exited;
  }
  cli = undefined;
});

/** Starts `simulate moments` on a free port and returns the endpoints it logged. */
async function simulate(args: string[]): Promise<{ cognitoEndpoint: string; graphqlUrl: string; schema: string; introspection: boolean }> {
  cli = startCli(['simulate', 'moments', '--port', '0', '--rate', '0', ...args]);
  await cli.waitFor(/Moments Engine simulator running/, 20_000);
  const line = cli
    .output()
    .split('\n')
    .find((l) => l.includes('Moments Engine simulator running'))!;
  return JSON.parse(line) as { cognitoEndpoint: string; graphqlUrl: string; schema: string; introspection: boolean };
}

describe('moments-bridge simulate moments', () => {
  it('serves the vendor schema with introspection by default', async () => {
    const sim = await simulate([]);
    expect(sim).toMatchObject({ schema: 'vendor', introspection: true });
    const { body } = await gql(sim, await idToken(sim), '{ __type(name: "MomentFilter") { name } }');
    expect(body.data).toEqual({ __type: { name: 'MomentFilter' } });
  }, 30_000);

  it('--schema amplify --no-introspection switches both', async () => {
    const sim = await simulate(['--schema', 'amplify', '--no-introspection']);
    expect(sim).toMatchObject({ schema: 'amplify', introspection: false });
    const token = await idToken(sim);
    expect((await gql(sim, token, '{ __schema { queryType { name } } }')).body.errors?.[0]).toMatchObject({ errorType: 'ValidationError' });
    expect(
      (await gql(sim, token, 'query ($f: ModelMomentFilterInput) { listMoments(filter: $f) { items { publicId } } }', { f: { eventId: { eq: '7' } } })).body,
    ).toEqual({ data: { listMoments: { items: [] } } });
  }, 30_000);

  it('refuses an unknown --schema with the choices', async () => {
    const result = await runCli(['simulate', 'moments', '--schema', 'graphql-ish']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Allowed choices are vendor, amplify/);
  }, 30_000);
});
