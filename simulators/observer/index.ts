import type { Logger } from '../../src/core/log.js';
import { silentLogger } from '../../src/core/log.js';
import { ObserverSimulator, type ObserverSimulatorControl, type ObserverSimulatorOptions } from './observer-simulator.js';

export { ObserverSimulator } from './observer-simulator.js';
export { SimStore } from './sim-store.js';
export type { ObserverSimulatorControl, ObserverSimulatorOptions, SimCall, SimClient, SimulatorState, MalformedKind } from './observer-simulator.js';
export type { PushRowOptions } from './call-rows.js';

export interface RunningObserverSimulator {
  /** `ws://host:port` to put in the source's `url`. */
  url: string;
  /** `http://host:port/_control` for the HTTP control API. */
  controlUrl: string;
  control: ObserverSimulatorControl;
  stop(): Promise<void>;
}

/** Starts a simulator and returns its URL and control API (tests, demo). */
export async function startObserverSimulator(options: ObserverSimulatorOptions = {}): Promise<RunningObserverSimulator> {
  const sim = new ObserverSimulator(options);
  await sim.start();
  return { url: sim.url, controlUrl: sim.controlUrl, control: sim, stop: () => sim.stop() };
}

export interface RunObserverSimulatorOptions extends ObserverSimulatorOptions {
  /** Calls started at once. @defaultValue 3 */
  calls?: number;
  /** Clients per started call. @defaultValue 3 */
  clientsPerCall?: number;
  /** End one random call and start a new one this often, ms; 0 = never. @defaultValue 60000 */
  churnEvery?: number;
  /** Stops the simulator when aborted; SIGINT/SIGTERM also stop it. */
  signal?: AbortSignal;
  logger?: Logger;
}

/**
 * `moments-bridge simulate observer`: a simulator with a few live calls emitting snapshot rows
 * (default every 2 s), with calls ending and starting over time. Resolves once stopped.
 */
export async function runObserverSimulator(opts: RunObserverSimulatorOptions = {}): Promise<void> {
  const logger = opts.logger ?? silentLogger();
  const sim = new ObserverSimulator({ ...opts, snapshotEvery: opts.snapshotEvery ?? 2_000, logger });
  await sim.start();
  const clients = opts.clientsPerCall ?? 3;
  for (let i = 0; i < (opts.calls ?? 3); i++) sim.startCall({ clients });
  const churnEvery = opts.churnEvery ?? 60_000;
  const churn =
    churnEvery > 0
      ? setInterval(() => {
          const ongoing = sim.state().calls;
          const victim = ongoing[Math.floor(Math.random() * ongoing.length)];
          if (victim) sim.endCall(victim.callId);
          sim.startCall({ clients });
        }, churnEvery)
      : undefined;
  logger.info({ url: sim.url, control: sim.controlUrl, accessToken: '(see --access-token)' }, 'observer simulator listening');
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      opts.signal?.removeEventListener('abort', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (opts.signal?.aborted) done();
    else opts.signal?.addEventListener('abort', done, { once: true });
  });
  clearInterval(churn);
  await sim.stop();
  logger.info('observer simulator stopped');
}
