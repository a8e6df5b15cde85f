import type { SimMoment, SimTrigger } from './moments-store.js';

/**
 * The `amplify` variant: Amplify-model naming (`Model…Input`, `Model…Connection`), `AWSJSON` for
 * marker / triggerMarker / triggerObject (JSON strings on the wire) and numeric ids as `ID!`
 * carrying numeric strings ("7") — wire variances a client of an AppSync engine must tolerate.
 */
export const AMPLIFY_SDL = /* GraphQL */ `
  scalar AWSJSON

  type Match {
    metric: String!
    subMetric: String
    value: Float
    type: String
    threshold: Float
  }
  type Criterion {
    datasetDatasourceId: Int
    metric: String!
    subMetric: String
    type: String!
    threshold: Float
  }

  type Moment {
    publicId: String!
    triggerPublicId: String
    clientId: ID!
    athleteId: ID!
    eventId: ID!
    matches: [Match!]!
    moment: String!
    triggerObject: AWSJSON
    triggerName: String
    triggerMarker: AWSJSON
    createdAt: String!
  }

  type Trigger {
    publicId: String!
    clientId: ID!
    isActive: Int!
    name: String!
    outputTemplate: String!
    labels: [String!]
    marker: AWSJSON
    criteria: [Criterion!]!
    timeWindowSeconds: Int
    cooldownSeconds: Int
    criteriaLogic: String
    metricStalenessSeconds: Int
    createdAt: String!
    updatedAt: String!
  }

  type ModelMomentConnection {
    items: [Moment!]!
    totalCount: Int
    nextToken: String
  }
  type ModelTriggerConnection {
    items: [Trigger!]!
    totalCount: Int
    nextToken: String
  }

  input ModelStringInput {
    eq: String
    ne: String
    gt: String
    ge: String
    lt: String
    le: String
    between: [String]
    beginsWith: String
  }
  input ModelIDInput {
    eq: ID
    ne: ID
    gt: ID
    ge: ID
    lt: ID
    le: ID
    between: [ID]
    beginsWith: ID
  }
  input ModelIntInput {
    eq: Int
    ne: Int
    gt: Int
    ge: Int
    lt: Int
    le: Int
    between: [Int]
  }

  input ModelMomentFilterInput {
    publicId: ModelStringInput
    triggerPublicId: ModelStringInput
    clientId: ModelIDInput
    athleteId: ModelIDInput
    eventId: ModelIDInput
    triggerName: ModelStringInput
    createdAt: ModelStringInput
    and: [ModelMomentFilterInput]
    or: [ModelMomentFilterInput]
    not: ModelMomentFilterInput
  }

  input ModelTriggerFilterInput {
    publicId: ModelStringInput
    clientId: ModelIDInput
    name: ModelStringInput
    isActive: ModelIntInput
    createdAt: ModelStringInput
    updatedAt: ModelStringInput
    and: [ModelTriggerFilterInput]
    or: [ModelTriggerFilterInput]
    not: ModelTriggerFilterInput
  }

  enum ModelSortDirection {
    ASC
    DESC
  }
  input ModelMomentOrderByInput {
    createdAt: ModelSortDirection
  }
  input ModelTriggerOrderByInput {
    createdAt: ModelSortDirection
    updatedAt: ModelSortDirection
  }

  type Query {
    listMoments(filter: ModelMomentFilterInput, limit: Int, nextToken: String, orderBy: [ModelMomentOrderByInput]): ModelMomentConnection
    getMoment(publicId: String!): Moment
    listTriggers(filter: ModelTriggerFilterInput, limit: Int, nextToken: String, orderBy: [ModelTriggerOrderByInput]): ModelTriggerConnection
    getTrigger(publicId: String!): Trigger
  }

  type Subscription {
    onCreateMoment(athleteId: ID, eventId: ID, triggerPublicId: String): Moment
    onCreateTrigger: Trigger
    onUpdateTrigger: Trigger
  }
`;

const json = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));

export function renderAmplifyTrigger(trigger: SimTrigger): Record<string, unknown> {
  return { ...trigger, clientId: String(trigger.clientId), marker: json(trigger.marker) };
}

export function renderAmplifyMoment(moment: SimMoment): Record<string, unknown> {
  return {
    ...moment,
    clientId: String(moment.clientId),
    athleteId: String(moment.athleteId),
    eventId: String(moment.eventId),
    triggerObject: json(moment.triggerObject),
    triggerMarker: json(moment.triggerMarker),
  };
}
