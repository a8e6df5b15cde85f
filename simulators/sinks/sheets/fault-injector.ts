import { ApiError } from './api-error.js';
import type { RequestLog } from './request-log.js';

/**
 * The failures the simulator plays on purpose: one-shot error answers (429, 5xx, 403, 404), writes
 * applied whose answer is then lost, and a per-minute write quota like the real per-user one.
 * Each is taken by the first request it matches.
 */

export interface InjectedFailure {
  status: number;
  /** Google status string, e.g. RESOURCE_EXHAUSTED, PERMISSION_DENIED. */
  statusText?: string;
  message?: string;
  /** Sent as `Retry-After` (seconds). */
  retryAfterSeconds?: number;
  /** Only requests whose method matches (e.g. `POST`). @defaultValue any */
  method?: string;
  /** Only requests whose path contains this (e.g. `:append`). @defaultValue any */
  pathIncludes?: string;
  /** Only write requests (POST/PUT). @defaultValue false */
  writesOnly?: boolean;
}

/** A write that is applied, and then its answer is lost: what a timeout or a dropped connection after the send looks like. */
export interface LostAnswer {
  /** `reset`: the connection is destroyed without an answer; `503`: a 503 UNAVAILABLE is answered. @defaultValue reset */
  as?: 'reset' | '503';
  /** Only write requests whose path contains this (e.g. `:append`). @defaultValue any write */
  pathIncludes?: string;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
};

/** Google's message for the per-user write quota. */
const WRITE_QUOTA_MESSAGE =
  "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'sheets.googleapis.com'.";

export class FaultInjector {
  private readonly failures: InjectedFailure[] = [];
  private readonly lostAnswers: LostAnswer[] = [];

  constructor(
    private readonly log: RequestLog,
    /** Answer 429 when more writes than this arrive within 60 s. @defaultValue unlimited */
    private readonly writeQuotaPerMinute: number | undefined,
  ) {}

  injectFailure(failure: InjectedFailure, count = 1): void {
    for (let i = 0; i < count; i += 1) this.failures.push(failure);
  }

  loseAnswerAfterWrite(lost: LostAnswer = {}, count = 1): void {
    for (let i = 0; i < count; i += 1) this.lostAnswers.push(lost);
  }

  injectQuotaExceeded(count = 1, retryAfterSeconds?: number): void {
    const f: InjectedFailure = {
      status: 429,
      statusText: 'RESOURCE_EXHAUSTED',
      message: WRITE_QUOTA_MESSAGE,
      writesOnly: true,
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    };
    for (let i = 0; i < count; i += 1) this.failures.push(f);
  }

  /** The error to answer before handling the request (an injected failure, then the quota), if any. */
  takeFailure(method: string, path: string, write: boolean): ApiError | undefined {
    const injected = this.failures.findIndex(
      (f) => (!f.method || f.method === method) && (!f.writesOnly || write) && (!f.pathIncludes || path.includes(f.pathIncludes)),
    );
    if (injected >= 0) {
      const f = this.failures.splice(injected, 1)[0]!;
      return new ApiError(
        f.status,
        f.statusText ?? STATUS_TEXT[f.status] ?? 'UNKNOWN',
        f.message ?? `Injected failure ${f.status}`,
        f.retryAfterSeconds !== undefined ? { 'retry-after': String(f.retryAfterSeconds) } : {},
      );
    }
    if (write && this.writeQuotaPerMinute !== undefined && this.log.writesInMinuteEnding(Date.now()) >= this.writeQuotaPerMinute) {
      return new ApiError(429, 'RESOURCE_EXHAUSTED', WRITE_QUOTA_MESSAGE);
    }
    return undefined;
  }

  /** How to lose the answer of a write just applied, if one is due. */
  takeLostAnswer(path: string, write: boolean): LostAnswer | undefined {
    const lostAt = write ? this.lostAnswers.findIndex((l) => !l.pathIncludes || path.includes(l.pathIncludes)) : -1;
    return lostAt >= 0 ? this.lostAnswers.splice(lostAt, 1)[0]! : undefined;
  }
}
