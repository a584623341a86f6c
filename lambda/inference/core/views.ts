/**
 * What callers see of a request and of the month's usage: the answer of `POST /v1/inference`, the record
 * of `GET /v1/requests/{id}` and the usage of `GET /v1/usage`. Pure.
 */
import type { InferenceResponse } from '../../shared/api-schema';
import { nanoToUsd } from '../../shared/catalog';
import type { TenantRuntimeConfig } from '../../shared/tenant-runtime';
import type { RequestRecord, UsageCounters } from './ports';

/**
 * What an API-key caller may see of a review: its outcome and when. Who decided and their note stay with
 * the review (review API, export): a caller is not told which person handled their request, nor what
 * reviewers wrote to each other. Records written before the review workflow stopped copying those fields
 * still hold them, so this picks fields rather than dropping some.
 */
export function callerReview(review: RequestRecord['review']) {
  return review ? { outcome: review.outcome, decidedAt: review.decidedAt } : null;
}

/** Who gave the answer a caller sees: the model, a person (not named), or nobody yet. */
function answeredBy(r: Pick<RequestRecord, 'status' | 'review' | 'modelId'>) {
  if (r.status === 'completed') return { type: 'model' as const, modelId: r.modelId };
  if (r.status === 'reviewed' && r.review) return { type: 'human' as const, ...callerReview(r.review)! };
  if (r.status === 'expired' && r.review?.unreviewed) {
    return { type: 'model' as const, modelId: r.modelId, unreviewed: true };
  }
  return null;
}

/** Builds the public view of a request record (`GET /v1/requests/{id}` and replays). */
export function publicRecord(r: RequestRecord) {
  return {
    requestId: r.requestId,
    status: r.status,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    tier: r.tier,
    modelId: r.modelId,
    routeReason: r.routeReason,
    // An answer waiting for review, rejected or expired under a reject policy is never shown.
    output: answeredBy(r) ? (r.output ?? null) : null,
    confidence: r.confidence ?? null,
    routerScore: r.routerScore ?? null,
    cascadeReason: r.cascadeReason ?? null,
    reviewId: r.reviewId ?? null,
    usage: { inputTokens: r.inputTokens, outputTokens: r.outputTokens },
    costUsd: nanoToUsd(r.costNanoUsd),
    latencyMs: r.latencyMs ?? null,
    escalated: r.escalated ?? false,
    truncated: r.truncated ?? false,
    attempts: r.attempts,
    answeredBy: answeredBy(r),
    review: callerReview(r.review),
    error: r.error ?? null,
    metadata: r.metadata ?? {},
    ...(r.guardrail ? { guardrail: 'intervened' as const } : {}),
  };
}

/** The record fields an answer is built from. */
export type AnswerFields = Pick<
  RequestRecord,
  | 'requestId'
  | 'status'
  | 'output'
  | 'tier'
  | 'modelId'
  | 'routeReason'
  | 'confidence'
  | 'inputTokens'
  | 'outputTokens'
  | 'costNanoUsd'
  | 'escalated'
  | 'attempts'
  | 'reviewId'
  | 'review'
  | 'guardrail'
  | 'truncated'
>;

/** The answer of `POST /v1/inference` (and of its replays). */
export function answerResponse(r: AnswerFields): InferenceResponse {
  if (r.status === 'in_progress' || r.status === 'failed') {
    throw new Error(`answerResponse: a ${r.status} request has no answer`);
  }
  return {
    requestId: r.requestId,
    status: r.status,
    // Only an answer someone stands behind goes out: never one waiting for review or rejected.
    output: answeredBy(r) ? (r.output ?? '') : null,
    ...(r.reviewId ? { reviewId: r.reviewId } : {}),
    tier: r.tier,
    modelId: r.modelId,
    routeReason: r.routeReason,
    confidence: r.confidence ?? null,
    usage: { inputTokens: r.inputTokens, outputTokens: r.outputTokens },
    costUsd: nanoToUsd(r.costNanoUsd),
    escalated: r.escalated ?? false,
    truncated: r.truncated ?? false,
    attempts: r.attempts,
    ...(r.guardrail ? { guardrail: 'intervened' as const } : {}),
  };
}

/** The month's usage as `GET /v1/usage` shows it. */
export function usageView(tenant: TenantRuntimeConfig, month: string, u: UsageCounters, capNano: number) {
  const share = (nano: number) => (capNano > 0 ? Math.round((nano / capNano) * 10_000) / 10_000 : null);
  return {
    tenantId: tenant.tenantId,
    month,
    requests: u.requests,
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    costUsd: nanoToUsd(u.costNanoUsd),
    budgetUsd: tenant.monthlyBudgetUsd,
    budgetUsedShare: share(u.costNanoUsd),
    committedUsd: nanoToUsd(u.committedNanoUsd),
    runningRequests: new Set(u.openReservations.map((r) => r.requestId)).size,
    nearCapShare: tenant.routing.nearCapShare,
    byTier: Object.fromEntries(
      Object.entries(u.byTier).map(([tier, t]) => [
        tier,
        {
          requests: t.requests,
          calls: t.calls,
          inputTokens: t.inputTokens,
          outputTokens: t.outputTokens,
          costUsd: nanoToUsd(t.costNanoUsd),
        },
      ]),
    ),
  };
}
