/**
 * The outcome step: what a run writes to its record (usage per tier, totals, the error when no model
 * answered), the figures of the request's metrics, and what `infer` returns to its caller.
 */
import type { Attempt, InferenceResponse } from '../../shared/api-schema';
import { nanoToUsd, usdToNano } from '../../shared/catalog';
import type { DomainError } from '../../shared/errors';
import { boundReviewInput } from '../../shared/review-schema';
import type { CascadeEnd } from './cascade-run';
import { guardrailRecordOf } from './guardrail';
import type { ModelCallError, RequestOutcome, RequestRecord, TierUsage } from './ports';
import type { ResolvedRequest } from './resolve';
import type { NotReviewed } from './review-admission';

/** A request's figures for the embedded metrics. */
export interface RequestSummary {
  readonly tier: string;
  readonly status: string;
  readonly calls: number;
  readonly fallbacks: number;
  readonly escalations: number;
  readonly review: boolean;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
  readonly confidence: number | null;
  /** Settled month spend / budget after this request (absent when the settlement was deferred). */
  readonly budgetUsedShare?: number;
  readonly settlementDeferred: boolean;
  readonly budgetDowngrade: boolean;
  readonly reviewHandOffFailed: boolean;
  /** The answer needed review but was not queued: the refusal's code (a cap, or the queue unreachable). */
  readonly notReviewed?: NotReviewed['code'];
  /** Time spent in model calls (all attempts), ms. */
  readonly modelLatencyMs: number;
  /** Model calls refused with AccessDeniedException. */
  readonly accessDenied: number;
  /** 1 when the tenant's guardrail blocked the prompt or blocked or masked the answer. */
  readonly guardrailInterventions: number;
}

/**
 * What `infer` returns: an answer (`answered`, or `pending_review` when it went to human review), the first
 * answer again for a repeat of an idempotency key (`replayed`), or the error of a request that was accepted,
 * recorded and settled but has no answer to give (`failed`). Errors before acceptance are thrown.
 */
export type InferOutcome =
  | {
      readonly kind: 'answered' | 'pending_review';
      readonly response: InferenceResponse;
      readonly summary: RequestSummary;
    }
  | { readonly kind: 'replayed'; readonly response: InferenceResponse }
  | { readonly kind: 'failed'; readonly error: DomainError; readonly summary: RequestSummary };

const emptyTierUsage = (): { -readonly [K in keyof TierUsage]: number } => ({
  requests: 0,
  calls: 0,
  inputTokens: 0,
  outputTokens: 0,
  costNanoUsd: 0,
});

/** Per tier usage of a record's answered calls (what its settlement adds). */
export function usageOfRecord(r: Pick<RequestRecord, 'attempts' | 'status' | 'tier'>): Record<string, TierUsage> {
  const byTier: Record<string, ReturnType<typeof emptyTierUsage>> = {};
  const of = (tier: string) => {
    byTier[tier] = byTier[tier] ?? emptyTierUsage();
    return byTier[tier];
  };
  for (const a of r.attempts) {
    if (a.outcome !== 'ok') continue;
    const u = of(a.tier);
    u.calls += 1;
    u.inputTokens += a.inputTokens;
    u.outputTokens += a.outputTokens;
    u.costNanoUsd += usdToNano(a.costUsd);
  }
  if (r.status !== 'failed' && r.status !== 'in_progress') of(r.tier).requests += 1;
  return byTier;
}

/** The error a request gets when no model answered, from the failures of its calls. */
export function errorForFailures(
  failures: readonly ModelCallError[],
  skipped: string | undefined,
): { code: 'model_unavailable' | 'model_error' | 'model_timeout'; message: string } {
  const names = [...new Set(failures.map((f) => f.errorName))].join(', ') || 'none';
  if (failures.some((f) => f.kind === 'error') && failures.every((f) => f.kind === 'error')) {
    return {
      code: 'model_error',
      message: `The model rejected the call (${names}); see the request record`,
    };
  }
  if (failures.length > 0 && failures.every((f) => f.kind === 'denied')) {
    return {
      code: 'model_unavailable',
      message: `This API may not call any of the models available to this request (${names}); the platform team has been alerted; retry later`,
    };
  }
  if (failures.length > 0 && failures.every((f) => f.kind === 'timeout')) {
    return {
      code: 'model_timeout',
      message: `No model answered before the deadline (${failures.length} call(s) tried: ${names}); retry with a smaller maxTokens or later`,
    };
  }
  return {
    code: 'model_unavailable',
    message: `Every model available to this request failed (${failures.length} call(s): ${names}${skipped ? `; ${skipped}` : ''}); retry later`,
  };
}

/** What a run ended with, before it is written. */
export interface RunEnd {
  readonly resolved: ResolvedRequest;
  readonly cascade: CascadeEnd;
  readonly attempts: readonly Attempt[];
  readonly failures: readonly ModelCallError[];
  readonly skipped: string | undefined;
  /** The review's id when the answer needs review. */
  readonly reviewId: string | undefined;
  /** Why an answer that needed review was not queued. */
  readonly notReviewed: NotReviewed | undefined;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly reservationIds: readonly string[];
}

/** The record's outcome of a run, with its usage per tier and the error (if any) it ends with. */
export function outcomeOfRun(run: RunEnd) {
  const { resolved, attempts, notReviewed } = run;
  const { best, review, cascadeReason, truncated } = run.cascade;
  const queued = run.reviewId !== undefined && notReviewed === undefined;
  const status = best ? (review ? (queued ? 'pending_review' : 'failed') : 'completed') : 'failed';
  const byTier = usageOfRecord({ attempts, status, tier: best?.tier ?? resolved.tier });
  const totals = Object.values(byTier).reduce(
    (t, u) => ({
      inputTokens: t.inputTokens + u.inputTokens,
      outputTokens: t.outputTokens + u.outputTokens,
      costNanoUsd: t.costNanoUsd + u.costNanoUsd,
    }),
    { inputTokens: 0, outputTokens: 0, costNanoUsd: 0 },
  );
  const escalations = attempts.filter((a) => a.reason?.startsWith('escalation')).length;
  const failure = best ? undefined : errorForFailures(run.failures, run.skipped);
  // An answer that needed review and was not queued is not kept: nobody may release it.
  const error: { code: string; message: string } | undefined = failure ?? notReviewed;
  const outcome: RequestOutcome = {
    status,
    updatedAt: new Date(run.endedAt).toISOString(),
    tier: best?.tier ?? resolved.tier,
    modelId: best?.modelId ?? resolved.modelId,
    ...totals,
    latencyMs: run.endedAt - run.startedAt,
    ...(best ? { ...(notReviewed ? {} : { output: best.reply.text }), confidence: best.confidence } : {}),
    escalated: escalations > 0,
    attempts: [...attempts],
    ...(error ? { error: { code: error.code, message: error.message.slice(0, 700) } } : {}),
    ...(truncated ? { truncated } : {}),
    ...(queued
      ? {
          reviewId: run.reviewId,
          // A bounded copy: the record and the review item must stay under DynamoDB's 400 KB item limit.
          reviewInput: boundReviewInput({
            ...(resolved.system ? { system: resolved.system } : {}),
            messages: resolved.messages.map((m) => ({ role: m.role, content: m.content })),
          }),
        }
      : {}),
    ...(cascadeReason ? { cascadeReason } : {}),
    ...(best && guardrailRecordOf(best) ? { guardrail: guardrailRecordOf(best) } : {}),
    reservationIds: [...run.reservationIds],
  };
  return { outcome, byTier, totals, queued, failure, escalations };
}

/** The metrics figures of a run, from its outcome and how its writes went. */
export function summaryOf(
  written: ReturnType<typeof outcomeOfRun>,
  run: Pick<RunEnd, 'notReviewed' | 'cascade'>,
  after: {
    readonly budgetUsedShare: number | undefined;
    readonly settlementDeferred: boolean;
    readonly budgetDowngrade: boolean;
    readonly reviewHandOffFailed: boolean;
  },
): RequestSummary {
  const { outcome, totals, queued, escalations } = written;
  const attempts = outcome.attempts;
  return {
    tier: outcome.tier,
    status: outcome.status,
    calls: attempts.length,
    fallbacks: attempts.filter((a) => a.reason?.startsWith('fallback')).length,
    escalations,
    review: queued,
    ...(run.notReviewed ? { notReviewed: run.notReviewed.code } : {}),
    inputTokens: totals.inputTokens,
    outputTokens: totals.outputTokens,
    costUsd: nanoToUsd(totals.costNanoUsd),
    confidence: run.cascade.best?.confidence ?? null,
    ...(after.budgetUsedShare !== undefined ? { budgetUsedShare: after.budgetUsedShare } : {}),
    settlementDeferred: after.settlementDeferred,
    budgetDowngrade: after.budgetDowngrade,
    reviewHandOffFailed: after.reviewHandOffFailed,
    modelLatencyMs: attempts.reduce((n, a) => n + a.latencyMs, 0),
    accessDenied: attempts.filter((a) => a.outcome === 'denied').length,
    guardrailInterventions: outcome.guardrail ? 1 : 0,
  };
}
