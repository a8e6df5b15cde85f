import { buildSchema, type GraphQLSchema } from 'graphql';
import { AMPLIFY_SDL, renderAmplifyMoment, renderAmplifyTrigger } from './amplify-schema.js';
import type { SimMoment, SimTrigger } from './moments-store.js';
import { renderVendorMoment, renderVendorTrigger, VENDOR_SDL } from './vendor-schema.js';

/** Which engine the simulator impersonates: the vendor document's types, or Amplify-model naming with AWSJSON and string ids. */
export type SchemaVariant = 'vendor' | 'amplify';

export const SCHEMA_VARIANTS: readonly SchemaVariant[] = ['vendor', 'amplify'];

/** A variant's schema (executed with graphql-js) and how it renders the canonical records. */
export interface SimulatorSchema {
  variant: SchemaVariant;
  sdl: string;
  schema: GraphQLSchema;
  renderMoment(moment: SimMoment): Record<string, unknown>;
  renderTrigger(trigger: SimTrigger): Record<string, unknown>;
}

const cache = new Map<SchemaVariant, SimulatorSchema>();

export function simulatorSchema(variant: SchemaVariant = 'vendor'): SimulatorSchema {
  let entry = cache.get(variant);
  if (!entry) {
    if (!SCHEMA_VARIANTS.includes(variant)) throw new RangeError(`unknown schema variant "${String(variant)}": use ${SCHEMA_VARIANTS.join(' or ')}`);
    entry =
      variant === 'vendor'
        ? { variant, sdl: VENDOR_SDL, schema: buildSchema(VENDOR_SDL), renderMoment: renderVendorMoment, renderTrigger: renderVendorTrigger }
        : { variant, sdl: AMPLIFY_SDL, schema: buildSchema(AMPLIFY_SDL), renderMoment: renderAmplifyMoment, renderTrigger: renderAmplifyTrigger };
    cache.set(variant, entry);
  }
  return entry;
}
