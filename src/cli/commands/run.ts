import { stat, statSync, type Stats } from 'node:fs';
import type { Command } from 'commander';
import { Daemon } from '../../daemon/daemon.js';
import { createLogger, type Logger } from '../../core/log.js';
import { CONFIG_OPTION_HELP, resolveConfigPath } from '../config-path.js';
import { loadValidatedConfig } from '../../config/load-validated-config.js';

/**
 * A stop takes at most `shutdown.grace` plus this, then the process exits anyway: the drain bound
 * a supervisor's stop timeout (compose `stop_grace_period`, Kubernetes
 * `terminationGracePeriodSeconds`) must exceed.
 */
export const FORCE_EXIT_MARGIN_MS = 5_000;

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'Run the daemon: subscribe to the sources, route every event, deliver through the connectors. SIGTERM/SIGINT stop it gracefully; a second signal forces exit.',
    )
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--no-sources', 'deliver queued jobs only; do not subscribe to sources (extra delivery replicas)')
    .option('-w, --watch', 'reload the config when the file changes (as on SIGHUP)')
    .action(async (opts: { config?: string; sources: boolean; watch?: boolean }) => {
      const file = resolveConfigPath(opts.config);
      // With --watch the file's status is taken before it is read, so no write after that is missed.
      let running = false;
      let changedEarly = false;
      const watcher = opts.watch ? watchConfigFile(file, () => (running ? reload('config file changed') : (changedEarly = true))) : undefined;
      // Handled from the start: SIGHUP's default action would kill a daemon still starting.
      const onHup = () => (running ? reload('SIGHUP') : (changedEarly = true));
      process.on('SIGHUP', onHup);
      // Stop signals are handled from the start too: without a listener Node takes the default
      // action (exit at once), which would leave a half-started daemon and its Redis behind.
      const started: { logger?: Logger } = {};
      const stopRequested = waitForStopSignal(() => started.logger);
      const loaded = await loadValidatedConfig(file);
      const logger = createLogger({ level: loaded.config.log.level, format: loaded.config.log.format });
      started.logger = logger;
      process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection (bug): please report it with this line'));
      const daemon = await Daemon.start({ loaded, logger, sources: opts.sources });
      logger.info(
        { component: 'daemon', pid: process.pid },
        `moments-bridge running (pid ${process.pid}); SIGHUP reloads the config; SIGTERM or Ctrl-C to stop`,
      );
      // Hot reload: a valid file is applied, an invalid one is logged and ignored (see Daemon.reload).
      const reload = (why: string) => {
        logger.info({ component: 'reload', trigger: why }, `${why}: reloading ${loaded.file}`);
        void daemon.reload();
      };
      running = true;
      if (changedEarly) reload('changed while starting');
      await stopRequested;
      process.off('SIGHUP', onHup);
      watcher?.close();
      const graceMs = loaded.config.shutdown.grace;
      const force = setTimeout(() => {
        logger.error({ graceMs }, `shutdown took longer than the grace period (${graceMs} ms) plus ${FORCE_EXIT_MARGIN_MS / 1000} s; exiting`);
        process.exit(2);
      }, graceMs + FORCE_EXIT_MARGIN_MS);
      force.unref();
      await daemon.stop();
      clearTimeout(force);
    });
}

/**
 * Polls the config file's status every 500 ms against the status it had when the daemon loaded it:
 * unlike inotify (fs.watch) this sees editors that replace the file by rename, bind mounts and
 * network file systems, and cannot miss a write made right after start-up. Calls `onChange` once
 * per burst of writes.
 */
function watchConfigFile(file: string, onChange: () => void): { close(): void } {
  const signature = (s: Stats | undefined) => (s ? `${s.ino}:${s.size}:${s.mtimeMs}` : 'missing');
  let last = signature(statSync(file, { throwIfNoEntry: false }));
  let debounce: NodeJS.Timeout | undefined;
  const poll = setInterval(() => {
    stat(file, (_err, s) => {
      const now = signature(s);
      if (now === last) return;
      last = now;
      clearTimeout(debounce);
      debounce = setTimeout(onChange, 200);
    });
  }, 500);
  poll.unref();
  return {
    close() {
      clearInterval(poll);
      clearTimeout(debounce);
    },
  };
}

function waitForStopSignal(logger: () => Logger | undefined): Promise<void> {
  return new Promise((resolve) => {
    let received = 0;
    const say = (level: 'info' | 'warn', signal: NodeJS.Signals, msg: string) => {
      const log = logger();
      if (log) log[level]({ signal }, msg);
      else process.stderr.write(`moments-bridge: ${msg}\n`);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      received++;
      if (received === 1) {
        say('info', signal, `${signal}: stopping (send it again to force exit)`);
        resolve();
      } else {
        say('warn', signal, `${signal} again: forcing exit`);
        process.exit(130);
      }
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
