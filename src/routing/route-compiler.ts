import type { RedisClient } from '../redis/redis-client.js';
import type { Connector, PayloadRenderer } from '../../connectors/connector.js';
import { noSuchName } from '../config/did-you-mean.js';
import { ConfigValidationError, type ConfigIssue } from '../core/config-error.js';
import { errorMessage } from '../core/errors.js';
import type { BridgeEvent } from '../core/event.js';
import { compileTemplate, type Template } from '../templates/template-engine.js';
import { compileCelCondition, type CelCondition } from './cel-condition.js';
import { Dedupe } from './dedupe.js';
import type { GroupSettings } from './grouping.js';
import { compileMatchers, fieldGetter, type FieldGetter, type FieldMatcher } from './matchers.js';
import type { RouteConfig } from './route-schema.js';
import { compileSchedule, type ActiveSchedule } from './schedule.js';
import { Throttle } from './throttle.js';

/** One connector a route delivers to, with the renderer built from the route's overrides. */
export interface Target {
  readonly connector: string;
  readonly renderer: PayloadRenderer;
}

/** One `group.by` path and its compiled getter. */
export interface GroupField {
  readonly path: string;
  readonly get: FieldGetter;
}

/** An enabled route, compiled once: predicates, renderers, and the Redis-backed gates it owns. */
export interface CompiledRoute {
  readonly index: number;
  readonly name: string;
  readonly from?: ReadonlySet<string>;
  readonly matchers: readonly FieldMatcher[];
  readonly condition?: CelCondition;
  readonly schedule?: ActiveSchedule;
  readonly continue: boolean;
  readonly targets: readonly Target[];
  readonly throttle?: { key: Template; gate: Throttle };
  readonly dedupe?: { key?: Template; gate: Dedupe };
  readonly group?: { by: readonly GroupField[]; settings: GroupSettings };
}

/** A route with `enabled: false`: kept only so explanations can list it. */
export interface DisabledRoute {
  readonly index: number;
  readonly name: string;
  readonly continue: boolean;
}

export interface RouteCompileDeps {
  redis: RedisClient;
  /** Prefix of every Redis key the gates write (throttle, dedupe), e.g. `mb:`. */
  keyPrefix: string;
  connectors: ReadonlyMap<string, Connector>;
}

export interface CompiledRoutes {
  routes: CompiledRoute[];
  disabled: DisabledRoute[];
}

/** Renders key templates at compile time so runtime-failing ones are found by `check`. */
// Stryker disable next-line StringLiteral: the trial render looks for templates that cannot render at all (limits, render-time errors); none fails on these strings and not on empty ones (equivalent)
const SAMPLE_EVENT: BridgeEvent = { id: 'sample:moment:1', source: 'sample', kind: 'moment', time: '1970-01-01T00:00:00.000Z', data: {} };

type Problem = (path: (string | number)[], message: string) => void;

/**
 * Compiles every route once — `match` to closures, `when` to a parsed CEL program, templates to
 * LiquidJS ASTs. Collects all problems (CEL syntax, unknown function, template errors, bad regex,
 * failing key templates, unknown connectors or override keys, duplicate names) and throws one
 * {@link ConfigValidationError} whose issue paths start with `['routes', i, …]`.
 */
export function compileRoutes(routes: readonly RouteConfig[], deps: RouteCompileDeps): CompiledRoutes {
  const issues: ConfigIssue[] = [];
  const out: CompiledRoutes = { routes: [], disabled: [] };
  const names = new Map<string, number>();
  // A connector's own broken template fails the same way for every route using it: once is enough.
  const rendererErrors = new Set<string>();
  routes.forEach((route, i) => {
    const problem: Problem = (path, message) => issues.push({ path: ['routes', i, ...path], message });
    const seen = names.get(route.name);
    if (seen !== undefined)
      problem(['name'], `route name "${route.name}" is already used by routes[${seen}]; names must be unique (they key throttles, groups and job ids)`);
    else names.set(route.name, i);

    const { matchers, errors } = compileMatchers(route.match);
    for (const e of errors) problem(['match', e.key], e.message);
    const condition = route.when === undefined ? undefined : attempt(() => compileCelCondition(route.when!), ['when'], problem);
    const schedule = route.activeTimes ? attempt(() => compileSchedule(route.activeTimes!), ['activeTimes'], problem) : undefined;
    const targets = compileTargets(route, deps.connectors, problem, rendererErrors);
    const gates = compileGates(route, deps, problem);

    if (!route.enabled) {
      out.disabled.push({ index: i, name: route.name, continue: route.continue });
      return;
    }
    out.routes.push({
      index: i,
      name: route.name,
      ...(route.from ? { from: new Set(route.from) } : {}),
      matchers,
      ...(condition ? { condition } : {}),
      ...(schedule ? { schedule } : {}),
      continue: route.continue,
      targets,
      ...gates,
    });
  });
  if (issues.length) throw new ConfigValidationError(issues);
  return out;
}

function attempt<T>(compile: () => T, path: string[], problem: Problem): T | undefined {
  try {
    return compile();
  } catch (err) {
    problem(path, errorMessage(err));
    return undefined;
  }
}

function compileTargets(route: RouteConfig, connectors: ReadonlyMap<string, Connector>, problem: Problem, rendererErrors: Set<string>): Target[] {
  const targets: Target[] = [];
  route.to.forEach((target, j) => {
    const name = typeof target === 'string' ? target : target.connector;
    const connector = connectors.get(name);
    if (!connector) {
      problem(typeof target === 'string' ? ['to', j] : ['to', j, 'connector'], noSuchName('connector', name, [...connectors.keys()]));
      return;
    }
    const overrides = typeof target === 'string' ? undefined : Object.fromEntries(Object.entries(target).filter(([k]) => k !== 'connector'));
    try {
      targets.push({ connector: name, renderer: connector.renderer(overrides && Object.keys(overrides).length ? overrides : undefined) });
    } catch (err) {
      const message = errorMessage(err);
      if (!rendererErrors.has(message)) problem(['to', j], message);
      rendererErrors.add(message);
    }
  });
  return targets;
}

/** Throttle, dedupe and group set-up. Windows arrive in milliseconds: the route schema parses durations at load. */
function compileGates(route: RouteConfig, deps: RouteCompileDeps, problem: Problem): Pick<CompiledRoute, 'throttle' | 'dedupe' | 'group'> {
  const keyTemplate = (source: string, path: string[]): Template | undefined =>
    attempt(
      () => {
        const t = compileTemplate(source, 'key template');
        t.render(SAMPLE_EVENT);
        return t;
      },
      path,
      problem,
    );
  const gates: { -readonly [K in 'throttle' | 'dedupe' | 'group']?: CompiledRoute[K] } = {};
  if (route.throttle) {
    const key = keyTemplate(route.throttle.key, ['throttle', 'key']);
    if (key)
      gates.throttle = {
        key,
        gate: new Throttle({ redis: deps.redis, prefix: `${deps.keyPrefix}routing:throttle:${route.name}:`, windowMs: route.throttle.window }),
      };
  }
  if (route.dedupe) {
    const key = route.dedupe.key !== undefined ? keyTemplate(route.dedupe.key, ['dedupe', 'key']) : undefined;
    gates.dedupe = {
      ...(key ? { key } : {}),
      gate: new Dedupe({ redis: deps.redis, prefix: `${deps.keyPrefix}routing:dedupe:${route.name}:`, windowMs: route.dedupe.window }),
    };
  }
  if (route.group) {
    gates.group = {
      by: route.group.by.map((path) => ({ path, get: fieldGetter(path) })),
      settings: { waitMs: route.group.wait, intervalMs: route.group.interval, max: route.group.max },
    };
  }
  return gates;
}
