import type { MomentsRealtimeError } from '../moments-errors.js';

export interface SubscriptionHandler {
  /** One `data` payload's `data` object, e.g. `{ onCreateMoment: {...} }`. */
  next: (data: Record<string, unknown>) => void;
  /** The server refused or ended the subscription with errors. */
  error?: (err: MomentsRealtimeError) => void;
}

export interface RealtimeSubscription {
  readonly id: string;
  unsubscribe(): void;
}

export interface ActiveSubscription {
  id: string;
  query: string;
  variables: Record<string, unknown>;
  handler: SubscriptionHandler;
  /** start_ack (or error) received on the current socket. */
  answered: boolean;
  /** Refused by the server: not re-sent on reconnect (it would fail again). */
  failed: boolean;
}

/**
 * The subscriptions one socket carries, kept across reconnects: which to (re)start on a new
 * connection, and whether every one has been answered on this one (the client is `ready` then).
 */
export class SubscriptionBook {
  private readonly subs = new Map<string, ActiveSubscription>();
  private nextId = 1;

  add(query: string, variables: Record<string, unknown>, handler: SubscriptionHandler): ActiveSubscription {
    const sub: ActiveSubscription = { id: `sub-${this.nextId++}`, query, variables, handler, answered: false, failed: false };
    this.subs.set(sub.id, sub);
    return sub;
  }

  get(id: string): ActiveSubscription | undefined {
    return this.subs.get(id);
  }

  /** False when it was not there (already removed, or ended by the server). */
  delete(id: string): boolean {
    return this.subs.delete(id);
  }

  /** A new socket: nothing is answered on it yet. */
  resetAnswers(): void {
    for (const sub of this.subs.values()) sub.answered = false;
  }

  /** The subscriptions a new connection starts: every one the server has not refused. */
  toStart(): ActiveSubscription[] {
    return [...this.subs.values()].filter((sub) => !sub.failed);
  }

  /** Every subscription not refused has its start_ack on this socket. */
  allAnswered(): boolean {
    for (const sub of this.subs.values()) if (!sub.failed && !sub.answered) return false;
    return true;
  }

  /** A server `error` for this subscription: answered, and not re-sent on reconnect. */
  refuse(sub: ActiveSubscription): void {
    sub.failed = true;
    sub.answered = true;
  }
}
