import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Command } from 'commander';
import { Daemon } from '../../daemon.js';
import { parseDuration } from '../../duration.js';
import { createLogger } from '../../log.js';
import { CONFIG_OPTION_HELP, resolveConfigPath } from '../config-path.js';
import { loadValidatedConfig } from '../load-validated-config.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run the daemon: subscribe to the sources, route every event, deliver through the connectors. SIGTERM/SIGINT stop it gracefully; a second signal forces exit.')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--no-sources', 'deliver queued jobs only; do not subscribe to sources (extra delivery replicas)')
    .option('-w, --watch', 'reload the config when the file changes (as on SIGHUP)')
    .action(async (opts: { config?: string; sources: boolean; watch?: boolean }) => {
      const loaded = await loadValidatedConfig(resolveConfigPath(opts.config));
      const logger = createLogger({ level: loaded.config.log.level, format: loaded.config.log.format });
      process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection (bug): please report it with this line'));
      const daemon = await Daemon.start({ loaded, logger, sources: opts.sources });
      logger.info({ component: 'daemon', pid: process.pid }, `moments-bridge running (pid ${process.pid}); SIGHUP reloads the config; SIGTERM or Ctrl-C to stop`);
      // Hot reload: a valid file is applied, an invalid one is logged and ignored (see Daemon.reload).
      const reload = (why: string) => {
        logger.info({ component: 'reload', trigger: why }, `${why}: reloading ${loaded.file}`);
        void daemon.reload();
      };
      const onHup = () => reload('SIGHUP');
      process.on('SIGHUP', onHup);
      const watcher = opts.watch ? watchFile(loaded.file, () => reload('config file changed')) : undefined;
      await waitForStopSignal(logger);
      process.off('SIGHUP', onHup);
      watcher?.close();
      const graceMs = parseDuration(loaded.config.shutdown.grace);
      const force = setTimeout(() => {
        logger.error({ graceMs }, `shutdown took longer than the grace period (${graceMs} ms) plus 5 s; exiting`);
        process.exit(2);
      }, graceMs + 5_000);
      force.unref();
      await daemon.stop();
      clearTimeout(force);
    });
}

/**
 * Watches the config file's directory (editors replace files by rename, which a watch on the file
 * itself would miss) and calls `onChange` once per burst of writes.
 */
function watchFile(file: string, onChange: () => void): FSWatcher {
  let timer: NodeJS.Timeout | undefined;
  const name = basename(file);
  const watcher = watch(dirname(file), (_event, changed) => {
    if (changed !== null && changed !== name) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, 300);
  });
  watcher.unref();
  return watcher;
}

function waitForStopSignal(logger: ReturnType<typeof createLogger>): Promise<void> {
  return new Promise((resolve) => {
    let received = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      received++;
      if (received === 1) {
        logger.info({ signal }, `${signal}: stopping (send it again to force exit)`);
        resolve();
      } else {
        logger.warn({ signal }, `${signal} again: forcing exit`);
        process.exit(130);
      }
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
