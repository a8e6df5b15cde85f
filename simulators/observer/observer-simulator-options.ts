import type { Logger } from '../../src/core/log.js';
import type { SimAdminOptions } from './sim-admin.js';
import type { SimStore } from './sim-store.js';

export interface ObserverSimulatorOptions {
  /** Port on `host`. @defaultValue 0 (a free port) */
  port?: number;
  /** @defaultValue `127.0.0.1` */
  host?: string;
  /** The token clients must send in `authenticate`. @defaultValue `sim-token` */
  accessToken?: string;
  /** Emit a snapshot round (one call row + one row per client) this often, ms; 0 = only on `snapshot()`. @defaultValue 0 */
  snapshotEvery?: number;
  /** Rows kept per call, client or database resource (oldest dropped). @defaultValue 1000 */
  maxRowsPerStream?: number;
  /** Seed of the stats generator. @defaultValue 1 */
  seed?: number;
  /** Ping interval the simulator suggests in its `authenticate` answer, ms. @defaultValue 15000 */
  pingIntervalMs?: number;
  /** Workers and servers present at start (all healthy); ignored with `store`. @defaultValue 2 workers, 1 server */
  admin?: SimAdminOptions;
  /**
   * Calls, rows, row sequence and admin state to continue from — `previous.store` of a stopped
   * simulator, to restart the service on the same port without losing its data. @defaultValue a new, empty store
   */
  store?: SimStore;
  logger?: Logger;
}
