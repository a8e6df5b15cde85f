interface Fault {
  method: string | undefined;
  remaining: number;
  delayMs?: number;
  error?: { code: string; message: string };
}

/** Delays and errors planned for the next requests (simulator control), taken one per request. */
export class RequestFaults {
  private faults: Fault[] = [];

  /** Delays the answers to the next `count` requests of `method` (any but authenticate when unset). */
  delay(options: { method?: string; ms: number; count?: number }): void {
    this.faults.push({ method: options.method, remaining: options.count ?? Number.POSITIVE_INFINITY, delayMs: options.ms });
  }

  /** Answers the next `count` requests of `method` with an error. */
  fail(options: { method?: string; code: string; message?: string; count?: number }): void {
    this.faults.push({
      method: options.method,
      remaining: options.count ?? Number.POSITIVE_INFINITY,
      error: { code: options.code, message: options.message ?? `simulated ${options.code}` },
    });
  }

  /** The fault that applies to this request, if any (spending one of its count). */
  take(method: string): Fault | undefined {
    const fault = this.faults.find((f) => f.remaining > 0 && (f.method === method || (f.method === undefined && method !== 'authenticate')));
    if (fault) fault.remaining -= 1;
    return fault;
  }

  clear(): void {
    this.faults = [];
  }
}
