import type { SimMoment, SimTrigger } from './moments-store.js';

/**
 * The `vendor` variant: the engine as the vendor SDK documents it (seeds/000) — numbers as `Int`,
 * `TriggerMarker`, `MomentValue`, `MomentTriggerSnapshot` and `TriggerCriteria` as object types —
 * with plainly named inputs, since the vendor names no GraphQL types. `listMoments` and
 * `listTriggers` return nullable connections so a resolver error reads `{ listMoments: null }`
 * plus an error, as AppSync answers.
 */
export const VENDOR_SDL = /* GraphQL */ `
  enum TriggerCriteriaType {
    eq
    ne
    gt
    ge
    lt
    le
    between
    exists
    avg_window
    trend_up
    trend_down
  }
  enum CriteriaLogic {
    AND
    OR
  }

  type TriggerMarker {
    color: String!
    icon: String
  }

  type TriggerCriteria {
    datasetDatasourceId: Int
    metric: String!
    subMetric: String!
    type: TriggerCriteriaType!
    threshold: Float!
  }

  type MomentValue {
    metric: String!
    subMetric: String!
    value: Float!
    type: TriggerCriteriaType
    threshold: Float
  }

  type MomentTriggerSnapshot {
    publicId: String!
    clientId: Int!
    isActive: Int!
    name: String!
    outputTemplate: String!
    labels: [String!]
    marker: TriggerMarker
    criteria: [TriggerCriteria!]!
    timeWindowSeconds: Int
    cooldownSeconds: Int
    criteriaLogic: CriteriaLogic
    metricStalenessSeconds: Int
    createdAt: String
    updatedAt: String
  }

  type Trigger {
    publicId: String!
    clientId: Int!
    isActive: Int!
    name: String!
    outputTemplate: String!
    labels: [String!]
    marker: TriggerMarker
    criteria: [TriggerCriteria!]!
    timeWindowSeconds: Int
    cooldownSeconds: Int
    criteriaLogic: CriteriaLogic
    metricStalenessSeconds: Int
    createdAt: String!
    updatedAt: String!
  }

  type Moment {
    publicId: String!
    triggerPublicId: String
    clientId: Int!
    athleteId: Int!
    eventId: Int!
    matches: [MomentValue!]!
    moment: String!
    triggerObject: MomentTriggerSnapshot!
    triggerName: String
    triggerMarker: TriggerMarker
    createdAt: String!
  }

  type MomentConnection {
    items: [Moment!]!
    totalCount: Int!
    nextToken: String
  }
  type TriggerConnection {
    items: [Trigger!]!
    totalCount: Int!
    nextToken: String
  }

  input StringFilter {
    eq: String
    ne: String
    gt: String
    ge: String
    lt: String
    le: String
    between: [String!]
    beginsWith: String
  }
  input IntFilter {
    eq: Int
    ne: Int
    gt: Int
    ge: Int
    lt: Int
    le: Int
    between: [Int!]
  }

  input MomentFilter {
    publicId: StringFilter
    triggerPublicId: StringFilter
    clientId: IntFilter
    athleteId: IntFilter
    eventId: IntFilter
    triggerName: StringFilter
    createdAt: StringFilter
    and: [MomentFilter!]
    or: [MomentFilter!]
    not: MomentFilter
  }

  input TriggerFilter {
    publicId: StringFilter
    clientId: IntFilter
    isActive: IntFilter
    name: StringFilter
    createdAt: StringFilter
    updatedAt: StringFilter
    and: [TriggerFilter!]
    or: [TriggerFilter!]
    not: TriggerFilter
  }

  enum SortDirection {
    ASC
    DESC
  }
  input MomentOrderBy {
    createdAt: SortDirection
    eventId: SortDirection
    athleteId: SortDirection
  }
  input TriggerOrderBy {
    createdAt: SortDirection
    updatedAt: SortDirection
    name: SortDirection
  }

  type Query {
    listTriggers(filter: TriggerFilter, limit: Int, nextToken: String, orderBy: [TriggerOrderBy!]): TriggerConnection
    getTrigger(publicId: String!): Trigger
    listMoments(filter: MomentFilter, limit: Int, nextToken: String, orderBy: [MomentOrderBy!]): MomentConnection
    getMoment(publicId: String!): Moment
  }

  type Subscription {
    onCreateMoment(athleteId: Int, eventId: Int, triggerPublicId: String): Moment
    onCreateTrigger: Trigger
    onUpdateTrigger: Trigger
  }
`;

/** The canonical records already have the documented shape. */
export const renderVendorMoment = (moment: SimMoment): Record<string, unknown> => ({ ...moment });
export const renderVendorTrigger = (trigger: SimTrigger): Record<string, unknown> => ({ ...trigger });
