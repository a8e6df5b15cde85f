import { z } from 'zod';
import { routeSchema, type RouteConfig } from '../routing/route-schema.js';
import { isRecord } from './cross-references.js';
import { configSchema, connectorConfigSchema, type BridgeConfig } from './schema.js';

/**
 * The parts of a config the schema accepts, when it rejects the whole: each top-level section,
 * each connector and each route is validated on its own, so connectors and routes that are
 * fine can still be compiled (templates, CEL, regexes) and their problems reported in the same
 * run as the schema's. A rejected section takes its defaults; a rejected connector is left out
 * (and named, so routes may still refer to it); a rejected route becomes a disabled stand-in so
 * the others keep their index (`routes[i]` in messages).
 */
export function partialConfig(raw: unknown): { config: BridgeConfig; invalidConnectors: string[] } {
  const root = isRecord(raw) ? raw : {};
  const shape = configSchema().shape;
  const section = <K extends keyof typeof shape>(key: K): z.output<(typeof shape)[K]> => {
    const parsed = shape[key].safeParse(root[key]);
    return (parsed.success ? parsed.data : shape[key].parse(undefined)) as z.output<(typeof shape)[K]>;
  };

  const connectors: Record<string, unknown> = {};
  const invalidConnectors: string[] = [];
  const connectorSchema = connectorConfigSchema();
  for (const [name, value] of Object.entries(isRecord(root.connectors) ? root.connectors : {})) {
    const parsed = withoutBadKeys(connectorSchema, value);
    if (parsed !== undefined) connectors[name] = parsed;
    else invalidConnectors.push(name);
  }

  const routes = (Array.isArray(root.routes) ? root.routes : []).map((value: unknown, i): RouteConfig => {
    const parsed = withoutBadKeys(routeSchema, value);
    if (parsed !== undefined) return parsed;
    const name = isRecord(value) && typeof value.name === 'string' ? value.name : `routes[${i}]`;
    return { name, enabled: false, to: [], continue: false };
  });

  const config = {
    redis: section('redis'),
    sources: section('sources'),
    connectors,
    routes,
    server: section('server'),
    log: section('log'),
    shutdown: section('shutdown'),
  } as BridgeConfig;
  return { config, invalidConnectors };
}

/**
 * The entry as the schema reads it once the keys it complained about are left out (an unknown
 * key, a `when` of the wrong type): the rest of the entry still gets compiled and checked. Those
 * keys' problems are reported by the schema already. Undefined when that is not enough.
 */
function withoutBadKeys<T>(schema: z.ZodType<T>, value: unknown): T | undefined {
  const first = schema.safeParse(value);
  if (first.success) return first.data;
  if (!isRecord(value)) return undefined;
  const bad = new Set(
    first.error.issues.flatMap((i) =>
      i.code === 'unrecognized_keys' && i.path.length === 0 ? i.keys : typeof i.path[0] === 'string' && i.path[0] !== 'type' ? [i.path[0]] : [],
    ),
  );
  if (!bad.size) return undefined;
  const second = schema.safeParse(Object.fromEntries(Object.entries(value).filter(([k]) => !bad.has(k))));
  return second.success ? second.data : undefined;
}
