import { Option, type Command } from 'commander';
import { createLogger } from '../../core/log.js';
import { countOption, nonNegativeOption, portOption, positiveIntOption } from '../number-option.js';

export function registerSimulate(program: Command): void {
  const simulate = program
    .command('simulate')
    .description('Run a simulator of an upstream system on 127.0.0.1, with a control API (see docs). Ctrl-C stops it.');

  simulate
    .command('moments')
    .description('The Moments Engine: Cognito + AppSync GraphQL + real-time WebSocket on one port, generating moments.')
    .option('--port <port>', 'port to listen on (0: any free port)', portOption, 4510)
    .option('--rate <n>', 'generated moments per second (0: none)', nonNegativeOption, 1)
    .option('--athletes <n>', 'athletes to pick from', positiveIntOption, 10)
    .addOption(
      new Option(
        '--schema <variant>',
        'GraphQL schema served: vendor (types as the vendor SDK documents them) or amplify (Model…Input names, AWSJSON, string ids)',
      )
        .choices(['vendor', 'amplify'])
        .default('vendor'),
    )
    .option('--no-introspection', 'refuse __schema/__type queries, as an AppSync API with introspection disabled does')
    .action(async (opts: { port: number; rate: number; athletes: number; schema: 'vendor' | 'amplify'; introspection: boolean }) => {
      // Simulators load on demand: they stay out of `run` and the other commands.
      const { runMomentsSimulator } = await import('../../../simulators/moments/run-moments-simulator.js');
      const sim = await runMomentsSimulator({
        port: opts.port,
        rate: opts.rate,
        athletes: opts.athletes,
        schema: opts.schema,
        introspection: opts.introspection,
        logger: createLogger(),
      });
      await untilSignal();
      await sim.stop();
    });

  simulate
    .command('observer')
    .description('The Observer service: WebSocket DataFrames with live calls emitting WebRTC stats rows.')
    .option('--port <port>', 'port to listen on (0: any free port)', portOption, 4520)
    .option('--access-token <token>', 'token clients must present', 'sim-token')
    .option('--calls <n>', 'calls started at once', countOption, 3)
    .option('--snapshot-every <ms>', 'snapshot row interval', positiveIntOption, 2000)
    .action(async (opts: { port: number; accessToken: string; calls: number; snapshotEvery: number }) => {
      const { runObserverSimulator } = await import('../../../simulators/observer/index.js');
      await runObserverSimulator({
        port: opts.port,
        accessToken: opts.accessToken,
        calls: opts.calls,
        snapshotEvery: opts.snapshotEvery,
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
