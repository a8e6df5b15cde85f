import type { Logger } from '../../core/log.js';
import type { RateLimitedLog } from '../../core/log-rate-limit.js';
import type { SourceProgress, SourceState } from '../source.js';

/** Items waiting this long with nothing accepted: the source reports itself not connected, even if nothing failed outright. */
const STUCK_AFTER_MS = 5_000;

/** What the health reads from the source and its trigger changes. */
export interface MomentsHealthInputs {
  /** Moments held in memory (live batches, buffer, in preparation, in flight). */
  heldMoments(): number;
  /** Trigger changes held for retry: how many, since when, and the last failure. */
  triggers: { readonly size: number; oldestSince(): number | undefined; failure(): { attempt: number; lastError: string } | undefined };
  triggerProgressAt(): number | undefined;
}

/**
 * The moments source's state and progress as /readyz, the gauges and the logs see them. The
 * socket alone does not make a source `connected`: while hand-overs or back-fills keep failing,
 * trigger changes are held for retry, or items wait with nothing accepted for STUCK_AFTER_MS, it
 * reports `reconnecting` with a lastError that says which.
 */
export class MomentsHealth {
  /** The upstream connection as reported. */
  private transport: SourceState = { status: 'starting' };
  /** Set while hand-overs or back-fills keep failing. */
  private failure: { attempt: number; nextRetryInMs: number; lastError: string } | undefined;
  private reportedStatus: SourceState['status'] | undefined;
  /** A batch the pipeline refused: its moments wait upstream (the cursor did not pass them) until a back-fill succeeds. */
  private refused: { count: number } | undefined;
  /** Since when moments have been waiting (taken from upstream, or refused, and not committed). */
  private waitingSince: number | undefined;
  private lastCommitAt: number | undefined;
  /** The cursor's createdAt as last read or moved (for lagMs). */
  private cursorAt: string | undefined;
  /** Set while the engine refuses a subscription: running, items arrive by polling only. */
  private degraded: { since: string; reason: string } | undefined;

  constructor(
    private readonly name: string,
    private readonly logger: Logger,
    private readonly log: RateLimitedLog,
    private readonly inputs: MomentsHealthInputs,
  ) {}

  get transportStatus(): SourceState['status'] {
    return this.transport.status;
  }

  state(): SourceState {
    const t = this.transport;
    if (t.status !== 'connected') return t;
    if (this.failure) return { status: 'reconnecting', ...this.failure };
    const held = this.inputs.triggers.failure();
    if (held) return { status: 'reconnecting', attempt: held.attempt, nextRetryInMs: 0, lastError: `trigger changes held for retry: ${held.lastError}` };
    // Neither failing nor moving (e.g. a Redis command waiting for a Redis that is gone): not connected either.
    const p = this.progress();
    const stuckMs = p.pending > 0 ? Date.now() - Math.max(p.lastProgressAt ?? 0, p.oldestPendingSince ?? 0) : 0;
    if (stuckMs > STUCK_AFTER_MS)
      return {
        status: 'reconnecting',
        attempt: 0,
        nextRetryInMs: 0,
        lastError: `no progress for ${Math.round(stuckMs / 1000)} s with ${p.pending} item(s) waiting (the pipeline or Redis is not answering)`,
      };
    if (this.degraded) return { status: 'degraded', ...this.degraded };
    return t;
  }

  /** `reason` while the source runs degraded (e.g. a refused subscription), undefined once it does not. */
  setDegraded(reason: string | undefined): void {
    if (reason === this.degraded?.reason) return;
    this.degraded = reason === undefined ? undefined : { since: new Date().toISOString(), reason };
    this.report();
  }

  /** Moments and trigger changes waiting for the pipeline, and how long; lagMs is how far the cursor is behind while moments wait. */
  progress(): SourceProgress {
    const moments = this.inputs.heldMoments() + (this.refused?.count ?? 0);
    const triggers = this.inputs.triggers;
    const since = [moments > 0 ? this.waitingSince : undefined, triggers.oldestSince()].filter((t): t is number => t !== undefined);
    const progressAt = [this.lastCommitAt, this.inputs.triggerProgressAt()].filter((t): t is number => t !== undefined);
    const cursorMs = this.cursorAt ? Date.parse(this.cursorAt) : Number.NaN;
    return {
      pending: moments + triggers.size,
      ...(since.length ? { oldestPendingSince: Math.min(...since) } : {}),
      ...(progressAt.length ? { lastProgressAt: Math.max(...progressAt) } : {}),
      lagMs: moments > 0 && Number.isFinite(cursorMs) ? Math.max(0, Date.now() - cursorMs) : 0,
    };
  }

  /** Moments are waiting from now, unless some already were. */
  noteWaiting(): void {
    this.waitingSince ??= Date.now();
  }

  /** Nothing held in memory any more: unless a refused batch waits upstream, nothing waits. */
  noteHeldChanged(): void {
    if (this.inputs.heldMoments() === 0 && !this.refused) this.waitingSince = undefined;
  }

  /** The pipeline refused `count` moments; they wait upstream behind the cursor. */
  noteRefused(count: number): void {
    this.noteWaiting();
    this.refused = { count: Math.max(count, this.refused?.count ?? 0) };
  }

  /** Moments up to `newest` (createdAt) were committed. */
  noteCommitted(newest: string): void {
    this.lastCommitAt = Date.now();
    if (this.cursorAt === undefined || newest > this.cursorAt) this.cursorAt = newest;
  }

  noteCursor(createdAt: string): void {
    this.cursorAt = createdAt;
  }

  /** A hand-over or back-fill failed: not connected until a back-fill succeeds. */
  pipelineFailed(attempt: number, nextRetryInMs: number, lastError: string): void {
    this.failure = { attempt, nextRetryInMs, lastError };
    this.report(true);
  }

  /** A back-fill succeeded: everything refused before is behind the cursor now. */
  recovered(): void {
    if (!this.failure && !this.refused) return;
    this.failure = this.refused = undefined;
    this.noteHeldChanged();
    this.report();
  }

  /** `failure` names an `auth_failed` state in the log: wrong credentials, or a document only config can fix. */
  setTransport(state: SourceState, failure = 'authentication failed'): void {
    const previousAttempt = this.transport.status === 'reconnecting' ? this.transport.attempt : undefined;
    this.transport = state;
    this.report(state.status === 'reconnecting' && previousAttempt !== undefined && previousAttempt !== state.attempt, failure);
  }

  /** Logs the state state() reports when it changed (a reconnect loop logs through the rate limiter); the daemon's mb_source_connected reads state() on every scrape. */
  private report(newAttempt = false, failure = 'authentication failed'): void {
    const state = this.state();
    if (this.reportedStatus === state.status && !newAttempt) return;
    this.reportedStatus = state.status;
    const log = { source: this.name, state };
    if (state.status === 'auth_failed') this.logger.error(log, `moments source ${this.name}: ${failure}, not retrying: ${state.error}`);
    else if (state.status === 'degraded') this.logger.error(log, `moments source ${this.name}: degraded: ${state.reason}`);
    else if (state.status === 'reconnecting')
      this.log.warn(
        `moments ${this.name} reconnecting`,
        log,
        `moments source ${this.name}: reconnecting (attempt ${state.attempt}, next try in ${state.nextRetryInMs} ms): ${state.lastError ?? ''}`,
      );
    else this.logger.info(log, `moments source ${this.name}: ${state.status}`);
  }
}
