import { buildSchema, type GraphQLSchema } from 'graphql';

/**
 * The simulated engine's GraphQL schema, in AppSync's model style (ModelXFilterInput, connections
 * with items/nextToken). Queries and subscriptions are executed with graphql-js, so selection
 * sets, variables and validation errors behave like a real GraphQL server.
 */
export const SIMULATOR_SDL = /* GraphQL */ `
scalar AWSJSON

type Match { metric: String! subMetric: String value: Float type: String threshold: Float }
type Criterion { metric: String! subMetric: String type: String! threshold: Float }

type Moment {
  publicId: String!
  triggerPublicId: String
  clientId: String!
  athleteId: String!
  eventId: Int!
  matches: [Match!]!
  moment: String!
  triggerObject: AWSJSON
  triggerName: String
  triggerMarker: String
  createdAt: String!
}

type Trigger {
  publicId: String!
  clientId: String!
  isActive: Int!
  name: String!
  outputTemplate: String!
  labels: [String!]
  marker: String
  criteria: [Criterion!]!
  timeWindowSeconds: Int
  cooldownSeconds: Int
  criteriaLogic: String
  metricStalenessSeconds: Int
  createdAt: String!
  updatedAt: String!
}

type ModelMomentConnection { items: [Moment!]! totalCount: Int nextToken: String }
type ModelTriggerConnection { items: [Trigger!]! totalCount: Int nextToken: String }

input ModelStringInput { eq: String ne: String gt: String ge: String lt: String le: String between: [String] beginsWith: String }
input ModelIntInput { eq: Int ne: Int gt: Int ge: Int lt: Int le: Int between: [Int] }

input ModelMomentFilterInput {
  publicId: ModelStringInput
  triggerPublicId: ModelStringInput
  clientId: ModelStringInput
  athleteId: ModelStringInput
  eventId: ModelIntInput
  createdAt: ModelStringInput
  and: [ModelMomentFilterInput]
  or: [ModelMomentFilterInput]
  not: ModelMomentFilterInput
}

input ModelTriggerFilterInput {
  publicId: ModelStringInput
  clientId: ModelStringInput
  name: ModelStringInput
  isActive: ModelIntInput
  and: [ModelTriggerFilterInput]
  or: [ModelTriggerFilterInput]
  not: ModelTriggerFilterInput
}

enum ModelSortDirection { ASC DESC }
input ModelMomentOrderByInput { createdAt: ModelSortDirection }

type Query {
  listMoments(filter: ModelMomentFilterInput, limit: Int, nextToken: String, orderBy: [ModelMomentOrderByInput]): ModelMomentConnection!
  getMoment(publicId: String!): Moment
  listTriggers(filter: ModelTriggerFilterInput, limit: Int, nextToken: String): ModelTriggerConnection!
  getTrigger(publicId: String!): Trigger
}

type Subscription {
  onCreateMoment(athleteId: String, eventId: Int, triggerPublicId: String): Moment
  onCreateTrigger: Trigger
  onUpdateTrigger: Trigger
}
`;

let schema: GraphQLSchema | undefined;

export function simulatorSchema(): GraphQLSchema {
  schema ??= buildSchema(SIMULATOR_SDL);
  return schema;
}
