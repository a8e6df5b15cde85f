import type { Command } from 'commander';
import { CONFIG_OPTION_HELP, resolveConfigPath } from '../config-path.js';
import { configWarnings } from '../../config/config-lint.js';
import { ConfigLoadError, sortedIssues, type ConfigAnalysis, type LocatedIssue } from '../../config/load-config.js';
import { analyseValidatedConfig } from '../../config/load-validated-config.js';
import { formatPath } from '../../core/config-error.js';
import { InputError } from '../../core/errors.js';
import { redactSecrets } from '../../core/secret-redaction.js';
import { runOnlineChecks, type OnlineCheck } from '../online-checks.js';

interface CheckOptions {
  config?: string;
  online?: boolean;
  json?: boolean;
  strict?: boolean;
}

/** The `check --json` document. */
export interface CheckReport {
  file: string;
  /** false when `run` would refuse the config, an online check failed, or (with --strict) there are warnings. */
  ok: boolean;
  summary?: { sources: number; connectors: number; routes: number };
  /** Errors and warnings, in file order. */
  problems: { severity: 'error' | 'warning'; file: string; line: number; col: number; path: string; message: string }[];
  /** Only with --online (and only when the config itself is valid). */
  online?: OnlineCheck[];
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'Validate a config as `run` would, reporting everything at once in file order: schema, environment variables, references, connector settings (e.g. webhook targets the SSRF guard refuses), templates, CEL conditions and regexes; plus warnings for connectors no route uses and routes that can never match. Prints file:line:col  path  message.',
    )
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option(
      '--online',
      "also connect: Redis, every moments source (login and GraphQL documents), and each connector's harmless auth call (Slack auth.test, Google token exchange, Kinesis DescribeStreamSummary); exit 1 when one fails",
    )
    .option('--json', 'print the findings as one JSON document on stdout')
    .option('--strict', 'exit 1 on warnings too')
    .action(async (opts: CheckOptions) => {
      const file = resolveConfigPath(opts.config);
      const report = await buildReport(file, opts);
      if (opts.json) printJson(report);
      else await printText(report, opts);
    });
}

async function buildReport(
  file: string,
  opts: CheckOptions,
): Promise<CheckReport & { analysis?: ConfigAnalysis; errors: LocatedIssue[]; warnings: LocatedIssue[] }> {
  let analysis: ConfigAnalysis | undefined;
  let errors: LocatedIssue[];
  let warnings: LocatedIssue[] = [];
  try {
    analysis = await analyseValidatedConfig(file);
    errors = analysis.issues;
    const located = configWarnings(analysis.raw).map((w) => ({ ...w, file: analysis!.file, ...analysis!.locate(w.path) }));
    warnings = sortedIssues(located);
  } catch (err) {
    // Nothing past a YAML syntax error or an alias bomb can be read.
    if (!(err instanceof ConfigLoadError)) throw err;
    errors = err.issues;
  }
  const loaded = analysis?.loaded;
  const online = opts.online && loaded ? await runOnlineChecks(loaded) : undefined;
  const count = (o: object) => Object.keys(o).length;
  const problems = sortedIssues([
    ...errors.map((i) => ({ ...i, severity: 'error' as const })),
    ...warnings.map((i) => ({ ...i, severity: 'warning' as const })),
  ]).map((i) => ({
    severity: i.severity,
    file: i.file,
    line: i.line,
    col: i.col,
    path: formatPath(i.path),
    message: i.message,
  }));
  const ok = errors.length === 0 && !(opts.strict && warnings.length) && !online?.some((c) => c.status === 'failed');
  return {
    file: analysis?.file ?? file,
    ok,
    ...(loaded ? { summary: { sources: count(loaded.config.sources), connectors: count(loaded.config.connectors), routes: loaded.config.routes.length } } : {}),
    problems,
    ...(online ? { online } : {}),
    analysis,
    errors,
    warnings,
  };
}

function printJson(report: Awaited<ReturnType<typeof buildReport>>): void {
  const { analysis: _a, errors, warnings, ...doc } = report;
  process.stdout.write(`${redactSecrets(JSON.stringify(doc satisfies CheckReport, null, 2))}\n`);
  if (report.ok) return;
  const failed = report.online?.filter((c) => c.status === 'failed').length ?? 0;
  const parts = [
    errors.length && `${errors.length} problem(s)`,
    failed && `${failed} failed online check(s)`,
    !errors.length && !failed && `${warnings.length} warning(s) (--strict)`,
  ].filter(Boolean);
  throw new InputError('check_failed', `${report.file}: ${parts.join(', ')}; details in the JSON on stdout`);
}

async function printText(report: Awaited<ReturnType<typeof buildReport>>, opts: CheckOptions): Promise<void> {
  const { errors, warnings } = report;
  if (errors.length || (opts.strict && warnings.length)) throw new ConfigLoadError(errors, warnings);
  const s = report.summary!;
  process.stdout.write(`${report.file}: OK — ${s.sources} source(s), ${s.connectors} connector(s), ${s.routes} route(s)\n`);
  if (warnings.length) process.stderr.write(`${redactSecrets(new ConfigLoadError([], warnings).message.replace(' (--strict)', ''))}\n`);
  if (!report.online) return;
  const out: string[] = ['online checks:'];
  for (const c of report.online) {
    out.push(`  ${c.status.replace('-', ' ').padEnd(11)}  ${c.target}  ${c.detail}`);
    if (c.lines) out.push(...c.lines);
  }
  process.stdout.write(`${redactSecrets(out.join('\n'))}\n`);
  const failures = report.online.filter((c) => c.status === 'failed').flatMap((c) => c.problems ?? [`${c.target}: ${c.detail}`]);
  if (failures.length) throw new InputError('check_online_failed', failures.join('\n'));
}
