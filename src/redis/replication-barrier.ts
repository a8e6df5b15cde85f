import { isCluster } from './redis-client.js';
import { keySlot } from './key-slot.js';
import type { RedisClient } from './redis-client.js';

/**
 * How long {@link awaitReplicas} waits for a replica. On one host replication takes well under a
 * millisecond; a master without a live replica costs this much per call until one is back.
 * @defaultValue 250 ms
 */
export const REPLICA_WAIT_MS = 250;

/**
 * On a Redis Cluster, waits until what this client wrote to each master has reached at least one
 * replica (`WAIT 1`), so a master killed right after cannot take it along: its promoted replica
 * has it. A source records its progress (on its own slot, often another master) only after this,
 * which is what keeps a fail-over from losing jobs the cursor already counts as queued. WAIT is
 * per connection: it is sent on the very node connections the writes went through. A master the
 * client's slot map lists with no replica is not asked (WAIT would block for `timeoutMs` on every
 * call, and there is nothing to wait for: its writes live or die with it, as on one Redis); a
 * replica that is listed but down costs `timeoutMs` per call until the map drops it.
 * `keys`: one key of each slot written to. No-op on one Redis.
 */
export async function awaitReplicas(client: RedisClient, keys: readonly string[], timeoutMs = REPLICA_WAIT_MS): Promise<void> {
  if (!isCluster(client) || keys.length === 0) return;
  // Only the masters written to: WAIT on a master without a live replica blocks for the timeout
  // even when this connection wrote nothing there.
  const owners = new Set<string>();
  for (const key of keys) {
    const [master, ...replicas] = client.slots[keySlot(key)] ?? [];
    if (master !== undefined && replicas.length > 0) owners.add(master);
  }
  if (owners.size === 0) return;
  const nodes = client.nodes('master').filter((node) => owners.has(`${node.options.host}:${node.options.port}`));
  await Promise.all(nodes.map((node) => node.call('WAIT', '1', String(timeoutMs)).catch(() => 0)));
}
