/**
 * Metric namespace, names and dimensions: defined once, used by the handlers (embedded metric format) and
 * by the monitoring constructs (dashboards, alarms).
 */
export const METRIC_NAMESPACE = 'Switchboard';

/**
 * `Cell` names the pool cell on a pooled function's metrics: they go under `[Cell, TenantId]` and `[Cell]`, never
 * `[TenantId]` alone, so the fleet's silo SEARCH over `{Switchboard,TenantId}` keeps to silo tenants and each cell is
 * searched on its own (lib/constructs/monitoring/switchboard-metrics.ts).
 */
export const METRIC_DIMENSIONS = { tenant: 'TenantId', tier: 'Tier', cell: 'Cell' } as const;

export const METRICS = {
  requests: { name: 'Requests', unit: 'Count' },
  rejected: { name: 'RejectedRequests', unit: 'Count' },
  modelErrors: { name: 'ModelErrors', unit: 'Count' },
  /** Model calls refused with AccessDeniedException (IAM or model access), each answered by a fallback if any. */
  modelAccessDenied: { name: 'ModelAccessDenied', unit: 'Count' },
  latency: { name: 'Latency', unit: 'Milliseconds' },
  modelLatency: { name: 'ModelLatency', unit: 'Milliseconds' },
  inputTokens: { name: 'InputTokens', unit: 'Count' },
  outputTokens: { name: 'OutputTokens', unit: 'Count' },
  costUsd: { name: 'CostUsd', unit: 'None' },
  idempotentReplays: { name: 'IdempotentReplays', unit: 'Count' },
  /** Model calls made (first answer, fallbacks and escalations). */
  modelCalls: { name: 'ModelCalls', unit: 'Count' },
  /** Calls made because an earlier model of the request failed (throttled, down, timed out). */
  fallbacks: { name: 'Fallbacks', unit: 'Count' },
  /** Calls made because an answer's confidence was below the tenant's threshold (the cascade). */
  escalations: { name: 'Escalations', unit: 'Count' },
  /**
   * Requests whose answer the tenant's Bedrock guardrail replaced or masked (stop reason `guardrail_intervened`:
   * a blocked prompt, a blocked or anonymized answer). The guardrail's answer is final: no escalation, no review.
   */
  guardrailInterventions: { name: 'GuardrailInterventions', unit: 'Count' },
  /** Requests handed to human review. */
  reviews: { name: 'ReviewsRequested', unit: 'Count' },
  /**
   * Answers that needed human review but were refused by the tenant's review caps (429 `review_queue_full` or
   * `review_rate_exceeded`): charged, not released, not queued.
   */
  reviewsRefused: { name: 'ReviewsRefused', unit: 'Count' },
  /** Confidence of the final answer (0–1). */
  confidence: { name: 'Confidence', unit: 'None' },
  /** Settled month spend / monthly budget after the request. */
  budgetUsedShare: { name: 'BudgetUsedShare', unit: 'None' },
  /** Requests refused with 429 budget_exceeded. */
  budgetRejected: { name: 'BudgetRejected', unit: 'Count' },
  /** auto requests moved to the cheapest tier because the month is near its budget. */
  budgetDowngrades: { name: 'BudgetDowngrades', unit: 'Count' },
  /** Settlements that could not be written (reconciled later from the record). */
  settlementsDeferred: { name: 'SettlementsDeferred', unit: 'Count' },
  /** Review outcomes (review workflow handlers). */
  reviewsApproved: { name: 'ReviewsApproved', unit: 'Count' },
  reviewsEdited: { name: 'ReviewsEdited', unit: 'Count' },
  reviewsRejected: { name: 'ReviewsRejected', unit: 'Count' },
  reviewsExpired: { name: 'ReviewsExpired', unit: 'Count' },
  reviewsFailed: { name: 'ReviewsFailed', unit: 'Count' },
  /** Reviews waiting for a decision, and the age of the oldest (emitted every few minutes by the review sweeper). */
  pendingReviews: { name: 'PendingReviews', unit: 'Count' },
  oldestPendingReviewAge: { name: 'OldestPendingReviewAgeSeconds', unit: 'Seconds' },
  /** Requests recorded pending_review whose workflow did not start (the scheduled sweep restarts them). */
  reviewHandOffFailures: { name: 'ReviewHandOffFailures', unit: 'Count' },
  /** Webhook calls that failed after retries (the review outcome is stored regardless). */
  webhookFailures: { name: 'WebhookFailures', unit: 'Count' },
} as const;

export type MetricKey = keyof typeof METRICS;
