import { SimAdmin, type SimAdminOptions } from './sim-admin.js';
import type { ClientStatsWalk } from './webrtc-stats.js';

type Row = Record<string, unknown>;

export interface SimClient {
  clientId: string;
  userId: string;
  joinedAt: number;
}

export interface SimCall {
  callId: string;
  roomId: string;
  startedAt: number;
  endedAt?: number;
  clients: SimClient[];
}

/**
 * What the Observer simulator knows, apart from its sockets: calls, the rows of every stream, the
 * row sequence and the admin side. Kept in its own object so a test can restart the service —
 * stop one simulator, start another on the same port with `{ store: old.store }` — and the rows
 * and ids continue where they were, as a real service restarted over its database would.
 */
export class SimStore {
  readonly calls = new Map<string, SimCall>();
  readonly endedCalls: SimCall[] = [];
  /** Rows per stream (`callSnapshots:<callId>`, `clientSnapshots:<callId>:<clientId>`, `database:<resource>`). */
  readonly streams = new Map<string, Row[]>();
  readonly walks = new Map<string, ClientStatsWalk>();
  readonly admin: SimAdmin;
  private seq = 0;

  constructor(admin: SimAdminOptions = {}) {
    this.admin = new SimAdmin(admin);
  }

  /** The next simulator-wide sequence number (row `seq`, frame ids). */
  nextSeq(): number {
    return ++this.seq;
  }
}
