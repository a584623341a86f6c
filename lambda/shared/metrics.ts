/**
 * Metric namespace, names and dimensions: defined once, used by the handlers (embedded metric format) and
 * by the monitoring constructs (dashboards, alarms).
 */
export const METRIC_NAMESPACE = 'Switchboard';

export const METRIC_DIMENSIONS = { tenant: 'TenantId', tier: 'Tier' } as const;

export const METRICS = {
  requests: { name: 'Requests', unit: 'Count' },
  rejected: { name: 'RejectedRequests', unit: 'Count' },
  modelErrors: { name: 'ModelErrors', unit: 'Count' },
  latency: { name: 'Latency', unit: 'Milliseconds' },
  modelLatency: { name: 'ModelLatency', unit: 'Milliseconds' },
  inputTokens: { name: 'InputTokens', unit: 'Count' },
  outputTokens: { name: 'OutputTokens', unit: 'Count' },
  costUsd: { name: 'CostUsd', unit: 'None' },
  idempotentReplays: { name: 'IdempotentReplays', unit: 'Count' },
} as const;

export type MetricKey = keyof typeof METRICS;
