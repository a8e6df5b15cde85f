import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));
/** The installed command (runs dist/, as users do): benches measure this, tests run the source. */
const BIN = fileURLToPath(new URL('../../bin/moments-bridge.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  /** Everything printed so far. */
  output(): string;
  /** Resolves when the output contains `text` (rejects after timeoutMs). */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<CliResult>;
  /** Started in its own process group. */
  detached: boolean;
}

/** Starts `moments-bridge <args>` from source in a child process. */
export function startCli(
  args: string[],
  options: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    /** own process group, as a terminal job is (signal it with process.kill(-pid)) */ detached?: boolean;
    /** run the compiled command (bin/ → dist/) instead of the TypeScript source */ compiled?: boolean;
  } = {},
): RunningCli {
  const child = spawn(process.execPath, options.compiled ? [BIN, ...args] : ['--import', 'tsx', ENTRY, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let stdout = '';
  let stderr = '';
  const waiters: { match: string | RegExp; resolve: () => void }[] = [];
  const check = () => {
    const all = stdout + stderr;
    for (const w of [...waiters]) {
      if (typeof w.match === 'string' ? all.includes(w.match) : w.match.test(all)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    check();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    check();
  });
  const exited = new Promise<CliResult>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return {
    child,
    output: () => stdout + stderr,
    waitFor(match, timeoutMs = 20_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${String(match)}; output so far:\n${stdout}${stderr}`)), timeoutMs);
        waiters.push({ match, resolve: () => (clearTimeout(timer), resolve()) });
        check();
      });
    },
    exited,
    detached: options.detached ?? false,
  };
}

/** Runs `moments-bridge <args>` to completion. */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return startCli(args, options).exited;
}

/**
 * Stops a CLI a test started, whatever state the test left it in: SIGTERM, then SIGKILL (to its
 * process group when detached) after `graceMs`, then closes its pipes. Call it from afterEach or
 * finally — a child left running keeps the vitest worker alive, and a failed assertion would show
 * as a hung run instead of a red test.
 */
export async function stopCli(cli: RunningCli, graceMs = 3_000): Promise<void> {
  const { child } = cli;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      try {
        if (cli.detached) process.kill(-child.pid!, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, graceMs);
    await cli.exited;
    clearTimeout(timer);
  }
  child.stdout?.destroy();
  child.stderr?.destroy();
}
