/**
 * Every API request the simulator answered, with its time: tests check "≤ 60 writes per minute"
 * against it, and the simulated write quota counts from it.
 */

export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  write: boolean;
  /** The answer's HTTP status; 0 when the connection was dropped without one. */
  status: number;
}

export class RequestLog {
  readonly requests: RecordedRequest[] = [];

  record(request: RecordedRequest): void {
    this.requests.push(request);
  }

  /** Write requests that arrived in `[at - 60 s, at]`. */
  writesInMinuteEnding(at: number): number {
    return this.requests.filter((r) => r.write && r.at > at - 60_000 && r.at <= at).length;
  }

  /** The most write requests seen in any sliding 60-second window. */
  maxWritesPerMinute(): number {
    const writes = this.requests.filter((r) => r.write);
    let max = 0;
    for (const w of writes) max = Math.max(max, this.writesInMinuteEnding(w.at));
    return max;
  }
}
