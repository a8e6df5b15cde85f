import { join } from 'node:path';
import type { Command } from 'commander';
import { Daemon } from '../../daemon/daemon.js';
import { DASHBOARD_PATH } from '../../http/queue-dashboard.js';
import { createLogger } from '../../core/log.js';
import { packageRoot } from '../../core/package-root.js';
import type { AttemptReport } from '../../queue/delivery-worker.js';
import { loadValidatedConfig } from '../../config/load-validated-config.js';
import { countOption, nonNegativeOption, numberOption } from '../number-option.js';

interface DemoOptions {
  rate: number;
  calls: number;
  duration?: number;
  config?: string;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'Run the whole pipeline on this machine: embedded Redis, the Moments and Observer simulators, local Slack / PagerDuty / webhook / Sheets stand-ins and kinesalite, and the bridge with examples/demo.yaml. Prints a line per delivery and a summary every 5 s; Ctrl-C stops everything.',
    )
    .option('--rate <n>', 'generated moments per second', nonNegativeOption, 1)
    .option('--calls <n>', 'ongoing calls in the Observer simulator', countOption, 2)
    .option('--duration <seconds>', 'stop by itself after this many seconds', numberOption({ min: 1 }))
    .option('-c, --config <file>', 'demo config (default: examples/demo.yaml of this package)')
    .action(async (opts: DemoOptions) => runDemo(opts));
}

async function runDemo(opts: DemoOptions): Promise<void> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const started = Date.now();
  // Listening from the start: a Ctrl-C while things start still stops everything cleanly.
  const stopRequested = waitForStop(opts.duration !== undefined ? opts.duration * 1000 : undefined);
  // Loaded here, not at the top: the simulators and kinesalite stay out of every other command.
  const { startDemoStack } = await import('../../../simulators/demo/demo-stack.js');
  const stack = await startDemoStack({ momentsPerSecond: opts.rate, calls: opts.calls });
  let daemon: Daemon | undefined;
  try {
    Object.assign(process.env, stack.env);
    const loaded = await loadValidatedConfig(opts.config ?? join(packageRoot(), 'examples', 'demo.yaml'));
    const logger = createLogger({ level: loaded.config.log.level, format: loaded.config.log.format });
    const totals = { delivered: 0, retry: 0, permanent: 0, byConnector: new Map<string, number>() };
    const onAttempt = (a: AttemptReport) => {
      const r = a.result;
      if (r.status === 'delivered') {
        totals.delivered++;
        totals.byConnector.set(a.connector, (totals.byConnector.get(a.connector) ?? 0) + 1);
      } else if (r.status === 'retry') totals.retry++;
      else totals.permanent++;
      const outcome =
        r.status === 'delivered' ? 'delivered' : r.status === 'retry' ? `retry: ${r.reason.slice(0, 60)}` : `dead-lettered: ${r.reason.slice(0, 60)}`;
      out(
        `${clock()}  ${`${a.route} → ${a.connector}`.padEnd(34)} ${outcome.padEnd(12)} attempt ${a.attempt}, ${a.latencyMs} ms after the event  ${a.eventId}`,
      );
    };
    daemon = await Daemon.start({ loaded, logger, onAttempt });
    const http = daemon.httpAddress;
    out(
      `moments-bridge demo — ${Object.keys(loaded.config.sources).length} sources, ${Object.keys(loaded.config.connectors).length} connectors, ${loaded.config.routes.length} routes (examples/demo.yaml)`,
    );
    out(`  Moments simulator  ${stack.moments.url}   (control API: POST ${stack.moments.url}/_control/…)`);
    out(`  Observer simulator ${stack.observer.url}`);
    out(`  Redis              ${daemon.redisUrl} (embedded, AOF on)`);
    if (http) {
      out(`  Metrics            http://${http.host}:${http.port}/metrics   readiness: /readyz`);
      const token = loaded.config.server.adminToken;
      if (token) out(`  Queue dashboard    ${dashboardUrl(http, token)}   (open it in a browser; if it asks: any user name, the password is the token)`);
    }
    out('  One line per delivery: route → connector, outcome, attempt, latency from the event. Ctrl-C to stop.\n');

    const summary = setInterval(() => {
      const secs = Math.round((Date.now() - started) / 1000);
      const per = [...totals.byConnector].map(([c, n]) => `${c} ${n}`).join(', ');
      out(
        `${clock()}  ── ${secs}s: ${stack.moments.control.stats().moments} moments generated · delivered ${totals.delivered}${per ? ` (${per})` : ''} · retries ${totals.retry} · dead letters ${totals.permanent} · slack msgs ${stack.slack.received.length} · webhooks ${stack.webhook.received.length}`,
      );
    }, 5_000);
    await stopRequested;
    clearInterval(summary);
    out('\nstopping…');
  } finally {
    await daemon?.stop();
    await stack.stop();
  }
  out('demo stopped.');
}

/** The dashboard with the token as HTTP Basic credentials in the URL, so one click opens it. */
function dashboardUrl(http: { host: string; port: number }, token: string): string {
  return `http://demo:${encodeURIComponent(token)}@${http.host}:${http.port}${DASHBOARD_PATH}`;
}

function clock(): string {
  return new Date().toISOString().slice(11, 23);
}

function waitForStop(afterMs: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      clearTimeout(timer);
      resolve();
    };
    const timer = afterMs ? setTimeout(done, afterMs) : undefined;
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
