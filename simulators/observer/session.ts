import type { WebSocket } from 'ws';
import { encodeServerMessage, type ServerMessage } from '../../src/sources/observer/observer-protocol.js';

export type Row = Record<string, unknown>;

export interface SessionFrame {
  frameId: string;
  kind: 'callSnapshots' | 'clientSnapshots' | 'database';
  stream: string;
  callId?: string;
  conditions: Record<string, unknown>;
}

/** One client connection: its socket, whether it authenticated, and the frames it opened. */
export interface Session {
  id: string;
  ws: WebSocket;
  authenticated: boolean;
  frames: Map<string, SessionFrame>;
}

/** The stream a row belongs to: `callSnapshots:<callId>`, `clientSnapshots:<callId>:<clientId>`, `database:<resource>`. */
export function streamKey(kind: string, a: string, b?: string): string {
  return b === undefined ? `${kind}:${a}` : `${kind}:${a}:${b}`;
}

/** Database frame conditions: every key must equal the row's value. */
export function matchesConditions(row: Row, conditions: Record<string, unknown>): boolean {
  return Object.entries(conditions).every(([k, v]) => row[k] === v);
}

export function sendTo(session: Session, message: ServerMessage): void {
  if (session.ws.readyState === session.ws.OPEN) session.ws.send(encodeServerMessage(message));
}
