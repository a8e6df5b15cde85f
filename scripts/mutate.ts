/**
 * `npm run mutate [-- --mutate <glob>] [stryker options]`: mutation testing of the modules whose
 * bugs lose, duplicate or mis-route data (stryker/scopes.json), one Stryker run per module so each
 * keeps its own incremental file (Stryker's incremental file only holds the files of its last
 * run). Afterwards it writes reports/mutation/summary.{json,md} from every module's incremental
 * file: killed / (killed + survived), timeouts counted as killed, no-coverage as survived.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, globSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface MutantResult {
  status: string;
  statusReason?: string;
}
interface Report {
  files: Record<string, { mutants: MutantResult[] }>;
}

export interface ModuleScore {
  scope: string;
  module: string;
  killed: number;
  survived: number;
  timeout: number;
  noCoverage: number;
  /** CompileError / RuntimeError / Ignored: no test can see them; not part of the score. */
  invalid: number;
  /** Percent, two decimals, rounded down. */
  score: number | null;
}

const REPORT_DIR = 'reports/mutation';
const scopes = JSON.parse(readFileSync('stryker/scopes.json', 'utf8')) as Record<string, string[]>;
const scopeOf = new Map(Object.entries(scopes).flatMap(([scope, files]) => files.map((f) => [f, scope] as const)));

/** Must match the slug in stryker.config.mjs. A line range (`file.ts:120-130`) is part of it. */
export function incrementalFileOf(module: string): string {
  return join(
    REPORT_DIR,
    'incremental',
    `${module
      .replace(/\.ts(?=:|$)/, '')
      .replaceAll('/', '-')
      .replace(':', '-L')}.json`,
  );
}

/** `file.ts:120-130` mutates only those lines (Stryker's own syntax). */
const LINE_RANGE = /^(.+\.ts):\d+(-\d+)?$/;

/**
 * What the run's sandbox copies: HEAD plus every uncommitted change to tracked or new files. If it
 * differs after a module's run, the tree changed while Stryker ran (its sandbox mixes two versions,
 * and mutants fail to compile for reasons of their own) and the run proves nothing. Reports and
 * the Stryker sandbox itself are left out: the run writes them.
 */
export function treeFingerprint(): string {
  const git = (...args: string[]) => spawnSync('git', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).stdout;
  const outside = [':(exclude)reports', ':(exclude).stryker-tmp'];
  const untracked = git('ls-files', '--others', '--exclude-standard', '-z', '--', '.', ...outside)
    .split('\0')
    .filter(Boolean)
    .sort();
  const hash = createHash('sha256')
    .update(git('rev-parse', 'HEAD'))
    .update(git('diff', 'HEAD', '--', '.', ...outside));
  for (const f of untracked) hash.update(f).update(existsSync(f) ? readFileSync(f) : '');
  return hash.digest('hex');
}

export function scoreOf(module: string, report: Report): ModuleScore {
  const counts = { killed: 0, survived: 0, timeout: 0, noCoverage: 0, invalid: 0 };
  const file = LINE_RANGE.exec(module)?.[1] ?? module;
  for (const m of report.files[file]?.mutants ?? []) {
    if (m.status === 'Killed') counts.killed++;
    else if (m.status === 'Survived') counts.survived++;
    else if (m.status === 'Timeout') counts.timeout++;
    else if (m.status === 'NoCoverage') counts.noCoverage++;
    else counts.invalid++;
  }
  const detected = counts.killed + counts.timeout;
  const valid = detected + counts.survived + counts.noCoverage;
  const score = valid === 0 ? null : Math.floor((detected / valid) * 10_000) / 100;
  return { scope: scopeOf.get(module) ?? '(ad hoc)', module, ...counts, score };
}

function parseArgs(argv: string[]): { globs: string[]; passThrough: string[] } {
  const globs: string[] = [];
  const passThrough: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--mutate' || arg === '-m') {
      const value = argv[++i];
      if (!value) throw new Error(`${arg} needs a file or glob, e.g. ${arg} src/routing/matchers.ts`);
      globs.push(...value.split(','));
    } else if (arg.startsWith('--mutate=')) {
      globs.push(...arg.slice('--mutate='.length).split(','));
    } else {
      passThrough.push(arg);
    }
  }
  return { globs, passThrough };
}

function modulesFor(globs: string[]): string[] {
  if (globs.length === 0) return [...scopeOf.keys()];
  const files = [...new Set(globs.flatMap((g) => (LINE_RANGE.test(g) && existsSync(LINE_RANGE.exec(g)![1]!) ? [g] : globSync(g))))]
    .filter((f) => f.endsWith('.ts') || LINE_RANGE.test(f))
    .sort();
  if (files.length === 0) throw new Error(`--mutate ${globs.join(',')} matches no .ts file (paths are relative to the repository root)`);
  return files;
}

/**
 * Drops the static mutants (code run while a module loads, e.g. a module-level regex) from an
 * incremental file so Stryker tests them again. No test "covers" a static mutant, so Stryker's
 * incremental diff never sees a test change that concerns one and would keep an old "Survived"
 * for ever, even after a test that kills it was written. They are few; re-testing them is cheap.
 */
export function forgetStaticResults(path: string): void {
  if (!existsSync(path)) return;
  const report = JSON.parse(readFileSync(path, 'utf8')) as { files: Record<string, { mutants: { static?: boolean }[] }> };
  for (const file of Object.values(report.files)) file.mutants = file.mutants.filter((m) => m.static !== true);
  writeFileSync(path, JSON.stringify(report));
}

function writeSummary(): ModuleScore[] {
  const known = [...scopeOf.keys()];
  const adHoc = globSync(join(REPORT_DIR, 'incremental', '*.json'))
    .map((p) => Object.keys((JSON.parse(readFileSync(p, 'utf8')) as Report).files))
    .flat()
    .filter((f) => !scopeOf.has(f));
  const rows: ModuleScore[] = [];
  for (const module of [...known, ...adHoc.sort()]) {
    const path = incrementalFileOf(module);
    if (!existsSync(path)) continue;
    rows.push(scoreOf(module, JSON.parse(readFileSync(path, 'utf8')) as Report));
  }
  const fmt = (s: number | null): string => (s === null ? 'n/a' : `${s.toFixed(2)} %`);
  const md = [
    '| scope | module | killed | survived | timeout | no coverage | score |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.scope} | \`${r.module}\` | ${r.killed} | ${r.survived} | ${r.timeout} | ${r.noCoverage} | ${fmt(r.score)} |`),
    '',
    `Modules with no row have not been run. Score = (killed + timeout) / (killed + timeout + survived + no coverage), rounded down.`,
    '',
  ].join('\n');
  mkdirSync(REPORT_DIR, { recursive: true });
  writeFileSync(join(REPORT_DIR, 'summary.json'), `${JSON.stringify(rows, null, 2)}\n`);
  writeFileSync(join(REPORT_DIR, 'summary.md'), md);
  return rows;
}

function main(): void {
  const { globs, passThrough } = parseArgs(process.argv.slice(2));
  if (passThrough.includes('--summary-only')) {
    writeSummary();
    process.stdout.write(readFileSync(join(REPORT_DIR, 'summary.md'), 'utf8'));
    return;
  }
  const failed: string[] = [];
  for (const module of modulesFor(globs)) {
    const started = Date.now();
    process.stdout.write(`\n== mutate ${module}\n`);
    forgetStaticResults(incrementalFileOf(module));
    const before = treeFingerprint();
    const run = spawnSync('stryker', ['run', ...passThrough], { stdio: 'inherit', env: { ...process.env, MUTATE_FILE: module } });
    if (run.status !== 0) failed.push(module);
    else if (treeFingerprint() !== before) {
      process.stderr.write(
        `${module}: the tree changed while Stryker ran, so this run proves nothing; run it again with --force (or run from a second worktree)\n`,
      );
      failed.push(module);
    }
    process.stdout.write(`== ${module}: ${Math.round((Date.now() - started) / 1000)} s\n`);
  }
  const rows = writeSummary();
  process.stdout.write(`\n${readFileSync(join(REPORT_DIR, 'summary.md'), 'utf8')}`);
  const below = rows.filter((r) => r.score !== null && r.score < 85);
  if (below.length > 0) process.stdout.write(`below 85 %: ${below.map((r) => r.module).join(', ')}\n`);
  if (failed.length > 0) {
    process.stderr.write(`stryker failed for: ${failed.join(', ')}\n`);
    process.exitCode = 1;
  }
}

// Run as a script (npm run mutate), not when a test imports the helpers above.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
