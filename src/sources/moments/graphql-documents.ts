/**
 * GraphQL documents of the Moments Engine API (PRODUCT.md §3). The subscription documents are
 * overridable in config because the real schema may name them otherwise.
 */

export const MOMENT_FIELDS = `publicId triggerPublicId clientId athleteId eventId
      matches { metric subMetric value }
      moment triggerObject triggerName triggerMarker createdAt`;

export const TRIGGER_FIELDS = `publicId clientId isActive name outputTemplate labels marker
      criteria { metric subMetric type threshold }
      timeWindowSeconds cooldownSeconds criteriaLogic metricStalenessSeconds createdAt updatedAt`;

export const LIST_MOMENTS = `query ListMoments($filter: ModelMomentFilterInput, $limit: Int, $nextToken: String, $orderBy: [ModelMomentOrderByInput]) {
  listMoments(filter: $filter, limit: $limit, nextToken: $nextToken, orderBy: $orderBy) {
    items { ${MOMENT_FIELDS} }
    totalCount nextToken
  }
}`;

export const GET_MOMENT = `query GetMoment($publicId: String!) {
  getMoment(publicId: $publicId) { ${MOMENT_FIELDS} }
}`;

export const LIST_TRIGGERS = `query ListTriggers($filter: ModelTriggerFilterInput, $limit: Int, $nextToken: String) {
  listTriggers(filter: $filter, limit: $limit, nextToken: $nextToken) {
    items { ${TRIGGER_FIELDS} }
    totalCount nextToken
  }
}`;

export const GET_TRIGGER = `query GetTrigger($publicId: String!) {
  getTrigger(publicId: $publicId) { ${TRIGGER_FIELDS} }
}`;

export const ON_CREATE_MOMENT = `subscription OnCreateMoment {
  onCreateMoment { ${MOMENT_FIELDS} }
}`;

export const ON_CREATE_TRIGGER = `subscription OnCreateTrigger {
  onCreateTrigger { ${TRIGGER_FIELDS} }
}`;

export const ON_UPDATE_TRIGGER = `subscription OnUpdateTrigger {
  onUpdateTrigger { ${TRIGGER_FIELDS} }
}`;
