/**
 * Key bases that keep each unit's state in one Redis Cluster slot. Under `redis.cluster` the
 * unit's name is wrapped in a hash tag `{…}`, so every key of one source (cursor, seen state,
 * lease) hashes to the same slot and one Lua script may touch them all; without a cluster the
 * names stay as they always were, so an upgrade finds its cursor where it left it.
 */
export interface KeyOptions {
  /** Redis Cluster: wrap the unit name in a hash tag. @defaultValue false */
  cluster?: boolean;
}

/** `<keyPrefix>source:<name>:`, or `<keyPrefix>source:{<name>}:` under a cluster; `keyPrefix` ends with `:`. */
export function sourceKeyBase(keyPrefix: string, name: string, options: KeyOptions = {}): string {
  return options.cluster ? `${keyPrefix}source:{${name}}:` : `${keyPrefix}source:${name}:`;
}
