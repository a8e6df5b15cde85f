import { Option, type Command } from 'commander';
import { createLogger } from '../../log.js';

export function registerSimulate(program: Command): void {
  const simulate = program
    .command('simulate')
    .description('Run a simulator of an upstream system on 127.0.0.1, with a control API (see docs). Ctrl-C stops it.');

  simulate
    .command('moments')
    .description('The Moments Engine: Cognito + AppSync GraphQL + real-time WebSocket on one port, generating moments.')
    .option('--port <port>', 'port to listen on', '4510')
    .option('--rate <n>', 'generated moments per second (0: none)', '1')
    .option('--athletes <n>', 'athletes to pick from', '10')
    .addOption(
      new Option('--schema <variant>', 'GraphQL schema served: vendor (types as the vendor SDK documents them) or amplify (Model…Input names, AWSJSON, string ids)')
        .choices(['vendor', 'amplify'])
        .default('vendor'),
    )
    .option('--no-introspection', 'refuse __schema/__type queries, as an AppSync API with introspection disabled does')
    .action(async (opts: { port: string; rate: string; athletes: string; schema: 'vendor' | 'amplify'; introspection: boolean }) => {
      // Simulators load on demand: they stay out of `run` and the other commands.
      const { runMomentsSimulator } = await import('../../simulators/moments/run-moments-simulator.js');
      const sim = await runMomentsSimulator({ port: Number(opts.port), rate: Number(opts.rate), athletes: Number(opts.athletes), schema: opts.schema, introspection: opts.introspection, logger: createLogger() });
      await untilSignal();
      await sim.stop();
    });

  simulate
    .command('observer')
    .description('The Observer service: WebSocket DataFrames with live calls emitting WebRTC stats rows.')
    .option('--port <port>', 'port to listen on', '4520')
    .option('--access-token <token>', 'token clients must present', 'sim-token')
    .option('--calls <n>', 'calls started at once', '3')
    .option('--snapshot-every <ms>', 'snapshot row interval', '2000')
    .action(async (opts: { port: string; accessToken: string; calls: string; snapshotEvery: string }) => {
      const { runObserverSimulator } = await import('../../simulators/observer/index.js');
      await runObserverSimulator({
        port: Number(opts.port),
        accessToken: opts.accessToken,
        calls: Number(opts.calls),
        snapshotEvery: Number(opts.snapshotEvery),
        logger: createLogger(),
      });
    });
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
