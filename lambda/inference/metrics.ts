/** The embedded metrics of the inference function, from the figures the core reports. */
import type { Telemetry } from '../shared/telemetry';
import type { RequestSummary } from './core/outcome';

/** The metrics of one answered (or failed after acceptance) inference request. */
export function emitRequestMetrics(telemetry: Telemetry, s: RequestSummary, latency: number): void {
  telemetry.metrics(
    {
      requests: 1,
      latency,
      modelLatency: s.modelLatencyMs,
      modelCalls: s.calls,
      fallbacks: s.fallbacks,
      escalations: s.escalations,
      reviews: s.review ? 1 : 0,
      inputTokens: s.inputTokens,
      outputTokens: s.outputTokens,
      costUsd: s.costUsd,
      ...(s.confidence !== null ? { confidence: s.confidence } : {}),
      ...(s.budgetUsedShare !== undefined ? { budgetUsedShare: s.budgetUsedShare } : {}),
      budgetDowngrades: s.budgetDowngrade ? 1 : 0,
      settlementsDeferred: s.settlementDeferred ? 1 : 0,
      ...(s.reviewHandOffFailed ? { reviewHandOffFailures: 1 } : {}),
      // A failure after the models answered (the review refused or unreachable) is not a model error.
      ...(s.status === 'failed' && !s.notReviewed ? { modelErrors: 1 } : {}),
      ...(s.notReviewed === 'review_queue_full' || s.notReviewed === 'review_rate_exceeded'
        ? { reviewsRefused: 1 }
        : {}),
      ...(s.accessDenied ? { modelAccessDenied: s.accessDenied } : {}),
      ...(s.guardrailInterventions ? { guardrailInterventions: s.guardrailInterventions } : {}),
    },
    { tier: s.tier },
  );
}
