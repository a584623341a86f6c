/**
 * The inference service: the request flow from a validated body to a stored, answered request.
 *
 *   resolve + route (4xx, nothing written, pure)
 *   → reserve the first call's worst-case cost on the month counter (429 `budget_exceeded`, nothing
 *     written, when the budget cannot hold it; near the cap, `auto` requests drop to the cheapest tier)
 *   → claim the request record (conditional put; the idempotency guard)
 *   → call models: each tier's model, then its fallbacks, then a neighbouring tier (throttling, not ready,
 *     5xx, timeouts), every call within the deadline and topped up in the budget before it starts
 *   → score each answer's confidence; below the tenant's threshold re-ask the next stronger allowed tier;
 *     still unsure at the strongest tier → hand to human review (`pending_review`)
 *   → write the outcome to the record (the commit point) → settle the month counter (exactly once: the
 *     settlement is conditional on the request's reservations still being open) → answer.
 *
 * Every accepted request has exactly one record: its id is derived from the idempotency key when there is
 * one, so a repeat finds the first record instead of creating a second, and is answered from it with no
 * model call and no charge. A settlement that could not be written (DynamoDB down) leaves the reservation
 * open; `reconcile` settles it later from the record, which is the source of truth.
 */

import { createHash, randomBytes } from 'node:crypto';
import type { Attempt, InferenceRequest, InferenceResponse } from '../../shared/api-schema';
import { costNanoUsd, nanoToUsd, type Tier, usdToNano } from '../../shared/catalog';
import { ApiError } from '../../shared/errors';
import { monthOf } from '../../shared/ledger-schema';
import { boundReviewInput, reviewIdFor } from '../../shared/review-schema';
import type { TenantRuntimeConfig } from '../../shared/tenant-runtime';
import { CALL_TIMING } from '../../shared/timing';
import { cascadeDecision } from './cascade';
import {
  type CallExtras,
  callExtrasOf,
  guardrailRecordOf,
  guardrailWorstCaseNanoUsd,
  isGuardrailFinal,
  NO_CALL_EXTRAS,
} from './guardrail';
import {
  type Clock,
  type ConfidenceFn,
  type IdGenerator,
  type Ledger,
  LedgerInputError,
  ModelCallError,
  type ModelFailureKind,
  type ModelInvoker,
  type ModelReply,
  type OpenReservation,
  type RequestOutcome,
  type RequestRecord,
  type ReviewHandOff,
  type ReviewQueue,
  type RouteFn,
  type TierUsage,
} from './ports';
import { allowedTiers, maxTokensCap, type ResolvedRequest, resolveRequest } from './resolve';
import { admitForReview, type NotReviewed, refusalOfRecord } from './review-admission';
import { cutShortByCaller } from './truncation';

/** What the HTTP adapter sends back. */
export interface ServiceResult {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  /** What happened, for metrics (not sent to the caller). */
  readonly summary?: RequestSummary;
}

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

/** An `ApiError` raised after a request was accepted: the envelope carries the ledger's request id. */
export class AcceptedRequestError extends ApiError {
  constructor(
    readonly requestId: string,
    code: ApiError['code'],
    message: string,
    retryAfterSeconds?: number,
  ) {
    super(code, message, retryAfterSeconds);
    this.name = 'AcceptedRequestError';
  }
}

export interface InferenceServiceDeps {
  readonly config: TenantRuntimeConfig;
  readonly invoker: ModelInvoker;
  readonly ledger: Ledger;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** The learned router's scorer; without it `auto` means the tenant's default tier. */
  readonly route?: RouteFn;
  readonly confidence: ConfidenceFn;
  readonly review: ReviewHandOff;
  /** The tenant's review caps (open reviews, reviews per hour). */
  readonly reviewQueue: ReviewQueue;
}

/** How long a caller should wait before retrying after the models were unavailable. */
const MODEL_RETRY_AFTER_SECONDS = 5;
/** How long a caller should wait before retrying after DynamoDB refused a request before it was accepted. */
const LEDGER_RETRY_AFTER_SECONDS = 3;
/** No model call starts with less time than this before the deadline. */
export const MIN_CALL_MS = CALL_TIMING.minCallMs;
/** A call may use at most this share of the time left (or all but `FALLBACK_KEEP_MS`), so a fallback can run. */
const CALL_TIME_SHARE = CALL_TIMING.callTimeShare;
const FALLBACK_KEEP_MS = CALL_TIMING.fallbackKeepMs;
/** Time scoring may take when the call's own time box has run out. */
const SCORING_BUDGET_MS = 250;
/** Open reservations older than this belong to runs that cannot still be alive (Lambda timeout ≤ 29 s). */
export const STALE_RESERVATION_MS = 5 * 60_000;
/** Tokens a message costs beyond its characters (role and framing), for the worst-case input estimate. */
const MESSAGE_OVERHEAD_TOKENS = 16;

/** The request id for an idempotency key: stable per tenant and key. */
export function requestIdForKey(tenantId: string, key: string): string {
  return `req_${createHash('sha256').update(`${tenantId}\u0000${key}`).digest('base64url').slice(0, 26)}`;
}

/** A hash of what determines the answer, to tell a true repeat from a reused key. */
export function bodyHash(req: InferenceRequest): string {
  const { idempotencyKey: _ignored, metadata: _meta, ...rest } = req;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** JSON with object keys sorted at every depth, so equal values always give the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

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

function answerResponse(
  r: Pick<
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
  >,
): InferenceResponse {
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

/** HTTP status of an answered request: 200 completed, 202 handed to review. */
function answerStatus(status: string): number {
  return status === 'pending_review' ? 202 : 200;
}

/** The error a request gets when no model answered, from the failures of its calls. */
function errorForFailures(
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

/**
 * Worst-case cost of a call in nano-USD: every prompt and preamble byte a token (an upper bound) plus maxTokens,
 * and the guardrail's text units over the prompt (bytes bound its characters) and the answer.
 */
export function worstCaseNanoUsd(
  modelId: string,
  resolved: Pick<ResolvedRequest, 'promptBytes' | 'messages'>,
  maxTokens: number,
  extras: CallExtras = NO_CALL_EXTRAS,
): number {
  const blocks = resolved.messages.length + 1;
  const inputTokens =
    resolved.promptBytes + extras.preambleBytes + MESSAGE_OVERHEAD_TOKENS * (blocks + extras.preambleBlocks);
  return (
    costNanoUsd(modelId, { inputTokens, outputTokens: maxTokens }) +
    guardrailWorstCaseNanoUsd(extras.guardrailPolicies, {
      inputChars: resolved.promptBytes,
      inputBlocks: blocks,
      maxTokens,
    })
  );
}

/** Seconds until the next UTC month starts (when a budget resets). */
function secondsToNextMonth(now: number): number {
  const d = new Date(now);
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return Math.max(1, Math.ceil((next - now) / 1000));
}

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

/** One model call's result inside a request. */
type CallResult =
  | {
      readonly kind: 'ok';
      readonly tier: Tier;
      readonly modelId: string;
      readonly reply: ModelReply;
      readonly confidence: number;
    }
  | { readonly kind: 'failed'; readonly error: ModelCallError }
  | { readonly kind: 'skipped'; readonly why: 'deadline' | 'budget' | 'ledger' };

const SKIP_REASONS = {
  deadline: 'no time left before the deadline',
  budget: 'budget cannot hold its worst case',
  ledger: 'the budget reservation could not be written',
} as const;

/** Creates the service from its ports. */
export function makeInferenceService(deps: InferenceServiceDeps) {
  const { config, invoker, ledger, clock, ids } = deps;
  const allowed = allowedTiers(config);
  const capNano = usdToNano(config.monthlyBudgetUsd);
  const nearCapNano = Math.floor(capNano * config.routing.nearCapShare);
  const extras = callExtrasOf(config);

  /** Answers a repeat of an idempotent request from its record. */
  async function replay(existing: RequestRecord, hash: string): Promise<ServiceResult | 'retry'> {
    if (existing.bodyHash !== hash) {
      throw new ApiError(
        'idempotency_key_reused',
        `idempotencyKey "${existing.idempotencyKey}" was already used for a different request (${existing.requestId}); use a new key`,
      );
    }
    if (existing.status === 'failed') {
      // Only a run that charged nothing is run again; a failed review keeps its charged answer.
      if (existing.costNanoUsd === 0) return 'retry';
      // Refused by a review cap: the same refusal again (the answer was paid for and is never released).
      const refusal = refusalOfRecord(existing.error, clock.now());
      if (refusal) {
        throw new AcceptedRequestError(existing.requestId, refusal.code, refusal.message, refusal.retryAfterSeconds);
      }
      throw new AcceptedRequestError(
        existing.requestId,
        'review_failed',
        `Request ${existing.requestId} was answered but its review failed (${existing.error?.message ?? 'see the record'}); the answer was not released. Send it again with a new idempotencyKey`,
      );
    }
    if (existing.status === 'in_progress') {
      throw new AcceptedRequestError(
        existing.requestId,
        'request_in_progress',
        `Request ${existing.requestId} with this idempotencyKey is still ${existing.status}; poll GET /v1/requests/${existing.requestId}`,
        2,
      );
    }
    return {
      status: answerStatus(existing.status),
      body: answerResponse(existing),
      headers: { 'Idempotent-Replay': 'true' },
    };
  }

  /**
   * The budget a request holds on the month counter: reservations made before calls, topped up when a
   * call needs more than what is left of them, replaced by the actual cost at settlement.
   */
  function budgetHold(requestId: string, runId: string, month: string) {
    const reservationIds: string[] = [];
    /** Reservations whose write failed with an error: DynamoDB may or may not have applied them. */
    const uncertain: Array<{ id: string; nanoUsd: number }> = [];
    let seq = 0;
    let held = 0;
    let spent = 0;
    return {
      get reservationIds(): readonly string[] {
        return reservationIds;
      },
      /**
       * Releases the reservations whose outcome is unknown, each on its own (a no-op for one that was never
       * written), so a write that DynamoDB applied but reported as failed never stays held or gets charged.
       */
      async releaseUncertain(signal?: AbortSignal): Promise<void> {
        for (const u of uncertain.splice(0)) {
          await ledger
            .settle(
              month,
              { requestId, reservationIds: [u.id], reservedNanoUsd: u.nanoUsd, requests: 0, byTier: {} },
              signal,
            )
            .catch(() => undefined); // still open: the reconciler releases it with its run
        }
      },
      get held() {
        return held;
      },
      spend(nano: number) {
        spent += nano;
      },
      /**
       * Makes sure `need` nano-USD are held for the next call. `guard: 'near-cap'` (a choice Switchboard
       * makes: routing to a stronger tier, escalating) also requires the month to be below the near-cap line.
       */
      async ensure(need: number, guard: 'near-cap' | 'cap'): Promise<boolean> {
        const free = held - spent;
        if (free >= need) return true;
        const extra = need - free;
        const limit = guard === 'near-cap' ? Math.min(capNano - extra, nearCapNano) : capNano - extra;
        // `<requestId>.<runId>.<n>`: the reconciler finds a run's reservations (and its record) by runId.
        // A new number for every attempt, so a write that failed is never mistaken for a later one.
        const id = `${requestId}.${runId}.${++seq}`;
        let r: 'reserved' | 'over_budget';
        try {
          r = await ledger.reserve(month, { id, requestId, nanoUsd: extra, at: clock.now() }, limit);
        } catch (e) {
          uncertain.push({ id, nanoUsd: extra });
          throw e;
        }
        if (r !== 'reserved') return false;
        reservationIds.push(id);
        held += extra;
        return true;
      },
    };
  }

  async function budgetExceeded(month: string, cheapest: Tier): Promise<ApiError> {
    const u = await ledger.getUsage(month).catch(() => undefined);
    const committed = u ? ` (committed $${nanoToUsd(u.committedNanoUsd)} incl. running requests)` : '';
    return new ApiError(
      'budget_exceeded',
      `Monthly budget of $${config.monthlyBudgetUsd} for ${month} cannot cover this request even on tier ${cheapest}${committed}; it resets at the start of next month (UTC), or the platform team can raise monthlyBudgetUsd`,
      secondsToNextMonth(clock.now()),
    );
  }

  /** DynamoDB failing before a request is accepted: nothing was recorded or charged, so the caller may retry. */
  function ledgerDown(e: unknown): never {
    if (e instanceof ApiError) throw e;
    throw new ApiError(
      'ledger_unavailable',
      `The ledger is unavailable (${(e as Error)?.name ?? 'Error'}); nothing was recorded or charged, retry in a few seconds`,
      LEDGER_RETRY_AFTER_SECONDS,
    );
  }

  /**
   * `deadlineMs`: no model call runs past it. `recordByMs` (default: 3 s later): the writes after the calls
   * (outcome, settlement, review hand-off) are cut off then, so a hanging DynamoDB cannot hold the function
   * past its timeout; what was not written is closed by the reconciliation.
   */
  async function infer(
    req: InferenceRequest,
    opts: { deadlineMs: number; recordByMs?: number },
  ): Promise<ServiceResult> {
    let resolved = resolveRequest(config, req, deps.route);
    const now = clock.now();
    const at = new Date(now).toISOString();
    const hash = bodyHash(req);
    const requestId = req.idempotencyKey ? requestIdForKey(config.tenantId, req.idempotencyKey) : ids.newRequestId();
    const month = monthOf(now);

    let runs = 1;
    // Two concurrent runs of one key (a race the record's conditional writes settle) never share an id.
    const runId = randomBytes(6).toString('hex');
    let existing: RequestRecord | undefined;
    if (req.idempotencyKey) {
      existing = await ledger.getRequest(requestId).catch(ledgerDown);
      if (existing) {
        const r = await replay(existing, hash);
        if (r !== 'retry') return r;
        runs = existing.runs + 1;
      }
    }

    // Budget first, so a request the budget cannot hold writes nothing.
    const cheapest = allowed[0]!;
    const hold = budgetHold(requestId, runId, month);
    const expiresAt = Math.floor(now / 1000) + config.dataRetentionDays * 86400;
    const primaryWorst = (tier: Tier) => {
      const modelId = config.tierModels[tier]!;
      const maxTokens = Math.min(resolved.requestedMaxTokens, maxTokensCap(config, modelId));
      return worstCaseNanoUsd(modelId, resolved, maxTokens, extras);
    };
    let budgetDowngrade = false;
    const firstGuard = resolved.auto && resolved.tier !== cheapest ? 'near-cap' : 'cap';
    // A reservation write that failed may still have been applied: release it before answering 503.
    const holdDown = async (e: unknown): Promise<never> => {
      await hold.releaseUncertain();
      return ledgerDown(e);
    };
    if (!(await hold.ensure(primaryWorst(resolved.tier), firstGuard).catch(holdDown))) {
      if (firstGuard === 'near-cap' && (await hold.ensure(primaryWorst(cheapest), 'cap').catch(holdDown))) {
        const modelId = config.tierModels[cheapest]!;
        resolved = {
          ...resolved,
          tier: cheapest,
          modelId,
          maxTokens: Math.min(resolved.requestedMaxTokens, maxTokensCap(config, modelId)),
          routeReason: `${resolved.routeReason}; budget: month spend is at or above ${Math.round(config.routing.nearCapShare * 100)}% of $${config.monthlyBudgetUsd} → cheapest tier ${cheapest}`,
        };
        budgetDowngrade = true;
      } else {
        throw await budgetExceeded(month, cheapest);
      }
    }
    const release = async () => {
      await ledger
        .settle(month, {
          requestId,
          reservationIds: hold.reservationIds,
          reservedNanoUsd: hold.held,
          requests: 0,
          byTier: {},
        })
        .catch(() => undefined);
      await hold.releaseUncertain();
    };

    /**
     * The create or reopen write failed with an error, but DynamoDB may have applied it. Read back: if
     * the record is in progress under this run, the request was accepted after all; if it is not, release
     * and refuse; if even that cannot be read, keep the hold (the reconciler closes the run whichever way
     * it went) and refuse.
     */
    const acceptanceFailed = async (e: unknown): Promise<true> => {
      let owned: boolean;
      try {
        const r = await ledger.getRequest(requestId);
        owned = r?.runId === runId && r.status === 'in_progress';
      } catch {
        throw new ApiError(
          'ledger_unavailable',
          `The ledger is unavailable (${(e as Error)?.name ?? 'Error'}); nothing was charged, but request ${requestId} may show as in progress for a few minutes; retry later`,
          LEDGER_RETRY_AFTER_SECONDS,
        );
      }
      if (owned) return true;
      await release();
      return ledgerDown(e);
    };

    if (existing) {
      const reopened = await ledger
        .reopenFailedRequest(requestId, { at, runs, runId, month, expiresAt })
        .catch(acceptanceFailed);
      if (!reopened) {
        await release();
        throw new AcceptedRequestError(
          requestId,
          'request_in_progress',
          'A retry of this request is already running',
          2,
        );
      }
    } else {
      const record: RequestRecord = {
        requestId,
        tenantId: config.tenantId,
        status: 'in_progress',
        createdAt: at,
        updatedAt: at,
        month,
        tier: resolved.tier,
        modelId: resolved.modelId,
        routeReason: resolved.routeReason,
        ...(resolved.routerScore !== undefined ? { routerScore: resolved.routerScore } : {}),
        bodyHash: hash,
        ...(req.idempotencyKey ? { idempotencyKey: req.idempotencyKey } : {}),
        runs,
        runId,
        inputTokens: 0,
        outputTokens: 0,
        costNanoUsd: 0,
        attempts: [],
        expiresAt,
        ...(req.metadata ? { metadata: req.metadata } : {}),
      };
      const created = await ledger.createRequest(record).catch(async (e) => {
        if (e instanceof LedgerInputError) {
          // Refused for what it holds, not an outage: nothing was written; a retry would fail the same way.
          await release();
          throw new ApiError(
            'invalid_request',
            'The request cannot be stored as sent: a field (most likely metadata) holds a value the ledger cannot represent; nothing was recorded or charged, change the request',
          );
        }
        await acceptanceFailed(e);
        return 'created' as const;
      });
      if (created === 'exists') {
        await release();
        // Lost a race with the same key: answer from the winner's record.
        const winner = await ledger.getRequest(requestId);
        if (winner) {
          const r = await replay(winner, hash);
          if (r !== 'retry') return r;
        }
        throw new AcceptedRequestError(requestId, 'request_in_progress', 'This request is already running', 2);
      }
    }

    const started = clock.now();
    const attempts: Attempt[] = [];
    const failures: ModelCallError[] = [];
    let skipped: string | undefined;

    /**
     * The answer's confidence, within the call's time box (a scorer that runs out of time caps its score); a
     * scorer that fails scores 0, so the answer goes up the cascade rather than out unchecked.
     */
    function scoreWithin(reply: { text: string; stopReason: string }, deadline: number) {
      try {
        return deps.confidence({
          prompt: resolved.routingText,
          text: reply.text,
          stopReason: reply.stopReason,
          budget: { now: clock.now, deadline: Math.max(deadline, clock.now() + SCORING_BUDGET_MS) },
        });
      } catch {
        return { confidence: 0, signals: ['scoring:failed'] };
      }
    }

    /** One model call, with its budget top-up and time box. */
    async function callModel(
      tier: Tier,
      modelId: string,
      reason: string,
      guard: 'near-cap' | 'cap',
    ): Promise<CallResult> {
      const callStart = clock.now();
      const remaining = opts.deadlineMs - callStart;
      if (remaining < MIN_CALL_MS) return { kind: 'skipped', why: 'deadline' };
      const maxTokens = Math.min(resolved.requestedMaxTokens, maxTokensCap(config, modelId));
      let held: boolean;
      try {
        held = await hold.ensure(worstCaseNanoUsd(modelId, resolved, maxTokens, extras), guard);
      } catch {
        // DynamoDB refused the top-up: no call without a reservation; the outcome says why.
        return { kind: 'skipped', why: 'ledger' };
      }
      if (!held) return { kind: 'skipped', why: 'budget' };
      const callDeadline = callStart + Math.max(remaining * CALL_TIME_SHARE, remaining - FALLBACK_KEEP_MS);
      try {
        const reply = await invoker.converse({
          modelId,
          system: resolved.system,
          messages: resolved.messages,
          maxTokens,
          deadlineMs: Math.min(opts.deadlineMs, callDeadline),
        });
        const cost = costNanoUsd(modelId, reply);
        hold.spend(cost);
        // The paid call is recorded before its answer is scored: whatever scoring does, the usage is kept.
        const attempt = {
          tier,
          modelId,
          outcome: 'ok' as const,
          inputTokens: reply.inputTokens,
          outputTokens: reply.outputTokens,
          costUsd: nanoToUsd(cost),
          latencyMs: reply.latencyMs,
          stopReason: reply.stopReason,
          reason,
          ...(reply.guardrailUnits ? { guardrailUnits: reply.guardrailUnits } : {}),
        };
        attempts.push(attempt);
        const scored = scoreWithin(reply, callDeadline);
        const confidence = Math.round(scored.confidence * 1000) / 1000;
        attempts[attempts.indexOf(attempt)] = { ...attempt, confidence, signals: [...scored.signals] };
        return { kind: 'ok', tier, modelId, reply, confidence };
      } catch (e) {
        if (!(e instanceof ModelCallError)) throw e;
        failures.push(e);
        attempts.push({
          tier,
          modelId,
          outcome: e.kind === 'error' ? 'error' : e.kind,
          inputTokens: 0,
          outputTokens: 0,
          costUsd: 0,
          latencyMs: clock.now() - callStart,
          errorCode: e.errorName,
          reason,
        });
        return { kind: 'failed', error: e };
      }
    }

    const transient = (k: ModelFailureKind) => k !== 'error';

    /** A tier's model, then its fallbacks; stops at the first answer or a non-transient failure. */
    async function callTier(tier: Tier, reason: string, guard: 'near-cap' | 'cap'): Promise<CallResult> {
      const chain = [config.tierModels[tier]!, ...(config.tierFallbacks[tier] ?? [])];
      let last: CallResult = { kind: 'skipped', why: 'deadline' };
      for (const [i, modelId] of chain.entries()) {
        const why = i === 0 ? reason : `fallback: ${chain[i - 1]} failed (${failures.at(-1)?.errorName})`;
        last = await callModel(tier, modelId, why, guard);
        if (last.kind === 'ok') return last;
        if (last.kind === 'skipped') {
          skipped = `${modelId} skipped: ${SKIP_REASONS[last.why]}`;
          if (last.why === 'deadline') return last;
          continue;
        }
        if (!transient(last.error.kind)) return last;
      }
      return last;
    }

    // First answer: the routed tier, then one neighbouring tier (stronger if allowed, else weaker).
    let result = await callTier(resolved.tier, 'route', 'cap');
    if (
      result.kind !== 'ok' &&
      !(result.kind === 'failed' && !transient(result.error.kind)) &&
      result.kind !== 'skipped'
    ) {
      const i = allowed.indexOf(resolved.tier);
      const neighbour = allowed[i + 1] ?? allowed[i - 1];
      if (neighbour) {
        result = await callTier(
          neighbour,
          `fallback: every ${resolved.tier} model failed`,
          allowed.indexOf(neighbour) > i ? 'near-cap' : 'cap',
        );
      }
    }

    // Cascade: re-ask stronger tiers while the answer looks unsure.
    let best = result.kind === 'ok' ? result : undefined;
    let review = false;
    let cascadeReason: string | undefined;
    let truncated = false;
    while (best) {
      // The guardrail's answer is final: a stronger model meets the same guardrail, a reviewer would see what it withheld.
      if (isGuardrailFinal(best.reply)) {
        cascadeReason = `guardrail intervened on ${best.tier}: its answer is final (no escalation, no review)`;
        break;
      }
      // Cut short by the caller's own maxTokens: what they asked for; not escalated, not reviewed.
      if (
        cutShortByCaller({
          requestedMaxTokens: req.maxTokens,
          stopReason: best.reply.stopReason,
          modelCap: maxTokensCap(config, best.modelId),
        })
      ) {
        truncated = true;
        cascadeReason = `truncated: the answer reached the caller's maxTokens (${req.maxTokens}) on ${best.tier}; returned as it is, not escalated or reviewed`;
        break;
      }
      const decision = cascadeDecision({
        tier: best.tier,
        allowedTiers: allowed,
        confidence: best.confidence,
        confidenceThreshold: config.escalation.confidenceThreshold,
        reviewThreshold: config.escalation.reviewThreshold,
      });
      if (decision.action === 'accept') {
        cascadeReason = `accepted: confidence ${best.confidence} on ${best.tier}`;
        break;
      }
      if (decision.action === 'review') {
        review = true;
        cascadeReason = decision.reason;
        break;
      }
      const next = await callTier(decision.nextTier, `escalation: ${decision.reason}`, 'near-cap');
      if (next.kind === 'ok') {
        best = next;
        continue;
      }
      // The stronger tier could not answer (down, no time, no budget): the best answer so far stands.
      const why =
        next.kind === 'skipped'
          ? next.why === 'budget'
            ? 'the budget is near its cap'
            : SKIP_REASONS[next.why]
          : `${decision.nextTier} failed (${next.error.errorName})`;
      review = best.confidence < config.escalation.reviewThreshold;
      cascadeReason = `escalation to ${decision.nextTier} not possible: ${why}; kept the ${best.tier} answer${review ? ', below the review threshold → human review' : ''}`;
      break;
    }

    const recordBy = opts.recordByMs ?? opts.deadlineMs + CALL_TIMING.recordReserveMs;
    const recordSignal = AbortSignal.timeout(Math.max(1, recordBy - clock.now()));

    // A place in the review queue, under the tenant's caps, before the record says pending_review.
    const reviewId = best && review ? reviewIdFor(requestId, runId) : undefined;
    const admittedAt = clock.now();
    const notReviewed = reviewId
      ? await admitForReview(
          deps.reviewQueue,
          { reviewId, requestId, at: admittedAt },
          { maxOpen: config.escalation.maxOpenReviews, maxPerHour: config.escalation.maxReviewsPerHour },
          recordSignal,
        )
      : undefined;
    const queued = reviewId !== undefined && notReviewed === undefined;
    /** A place taken for a review whose request could not be recorded as pending: given back (best effort). */
    const withdraw = async () => {
      if (queued) await deps.reviewQueue.release(reviewId, { admittedAt }, recordSignal).catch(() => undefined);
    };

    const endedAt = clock.now();
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
    const fallbacks = attempts.filter((a) => a.reason?.startsWith('fallback')).length;

    const failure = best ? undefined : errorForFailures(failures, skipped);
    // An answer that needed review and was not queued is not kept: nobody may release it.
    const error: { code: string; message: string } | undefined = failure ?? notReviewed;
    const outcome: RequestOutcome = {
      status,
      updatedAt: new Date(endedAt).toISOString(),
      tier: best?.tier ?? resolved.tier,
      modelId: best?.modelId ?? resolved.modelId,
      ...totals,
      latencyMs: endedAt - started,
      ...(best ? { ...(notReviewed ? {} : { output: best.reply.text }), confidence: best.confidence } : {}),
      escalated: escalations > 0,
      attempts,
      ...(error ? { error: { code: error.code, message: error.message.slice(0, 700) } } : {}),
      ...(truncated ? { truncated } : {}),
      ...(queued
        ? {
            reviewId,
            // A bounded copy: the record and the review item must stay under DynamoDB's 400 KB item limit.
            reviewInput: boundReviewInput({
              ...(resolved.system ? { system: resolved.system } : {}),
              messages: resolved.messages.map((m) => ({ role: m.role, content: m.content })),
            }),
          }
        : {}),
      ...(cascadeReason ? { cascadeReason } : {}),
      ...(best && guardrailRecordOf(best) ? { guardrail: guardrailRecordOf(best) } : {}),
      reservationIds: [...hold.reservationIds],
    };

    // The record is the commit point; the counter follows it exactly once.
    let finished: boolean;
    try {
      finished = await ledger.finishRequest(requestId, runId, outcome, recordSignal);
    } catch (e) {
      await withdraw();
      // The reservation stays open (the budget stays conservative) and `reconcile` closes the run later.
      throw new AcceptedRequestError(
        requestId,
        'ledger_unavailable',
        `The outcome of request ${requestId} could not be recorded (${(e as Error)?.name}); retry with the same idempotencyKey in a minute`,
        60,
      );
    }
    let budgetUsedShare: number | undefined;
    let settlementDeferred = false;
    try {
      const settled = await ledger.settle(
        month,
        {
          requestId,
          reservationIds: hold.reservationIds,
          reservedNanoUsd: hold.held,
          // Answered requests count; failed runs (charged nothing) do not.
          requests: finished && outcome.status !== 'failed' ? 1 : 0,
          // A run whose record was already closed by someone else (the reconciler) charges nothing here.
          byTier: finished ? byTier : {},
        },
        recordSignal,
      );
      if (settled.result === 'settled' && capNano > 0) {
        budgetUsedShare = Math.round((settled.costNanoUsd / capNano) * 10_000) / 10_000;
      }
    } catch {
      settlementDeferred = true;
    }
    await hold.releaseUncertain(recordSignal);
    if (!finished) await withdraw();

    // Hand-off after the record says pending_review, so the workflow finds what it needs. A failed start
    // leaves the record pending_review with its review id; starting again (same execution name) is safe.
    let reviewHandOffFailed = false;
    if (best && queued && finished) {
      try {
        await deps.review.start(
          {
            requestId,
            tenantId: config.tenantId,
            reviewId,
            confidence: best.confidence,
            reason: cascadeReason ?? 'below the review threshold',
          },
          recordSignal,
        );
      } catch {
        reviewHandOffFailed = true;
      }
    }

    const summary: RequestSummary = {
      tier: outcome.tier,
      status: outcome.status,
      calls: attempts.length,
      fallbacks,
      escalations,
      review: queued,
      ...(notReviewed ? { notReviewed: notReviewed.code } : {}),
      inputTokens: totals.inputTokens,
      outputTokens: totals.outputTokens,
      costUsd: nanoToUsd(totals.costNanoUsd),
      confidence: best?.confidence ?? null,
      ...(budgetUsedShare !== undefined ? { budgetUsedShare } : {}),
      settlementDeferred,
      budgetDowngrade,
      reviewHandOffFailed,
      modelLatencyMs: attempts.reduce((n, a) => n + a.latencyMs, 0),
      accessDenied: attempts.filter((a) => a.outcome === 'denied').length,
      guardrailInterventions: outcome.guardrail ? 1 : 0,
    };

    if (!best) {
      const f = failure!;
      throw Object.assign(
        new AcceptedRequestError(
          requestId,
          f.code,
          f.message,
          f.code === 'model_error' ? undefined : MODEL_RETRY_AFTER_SECONDS,
        ),
        { summary },
      );
    }
    if (notReviewed) {
      throw Object.assign(
        new AcceptedRequestError(requestId, notReviewed.code, notReviewed.message, notReviewed.retryAfterSeconds),
        { summary },
      );
    }
    return {
      status: answerStatus(outcome.status),
      body: answerResponse({ requestId, routeReason: resolved.routeReason, ...outcome }),
      summary,
    };
  }

  /**
   * Closes runs that died with reservations open (a crash, or DynamoDB down while settling): settles each
   * from its record, the source of truth, or releases it when the record never finished. Idempotent;
   * safe to run concurrently (each settlement is conditional on its reservations still being open).
   */
  async function reconcile(month: string): Promise<{ settled: number; released: number }> {
    const usage = await ledger.getUsage(month);
    const now = clock.now();
    // A run's reservations are settled together, in one update: settling some of them with the record's
    // usage and the rest later would charge the record twice.
    const byRun = new Map<string, OpenReservation[]>();
    for (const r of usage.openReservations) {
      const run = r.id.slice(0, r.id.lastIndexOf('.'));
      byRun.set(run, [...(byRun.get(run) ?? []), r]);
    }
    let settled = 0;
    let released = 0;
    let failed = 0;
    for (const [run, rs] of byRun) {
      // The run may still be alive while its newest reservation is recent.
      if (rs.some((r) => now - r.at <= STALE_RESERVATION_MS)) continue;
      try {
        const requestId = rs[0]!.requestId;
        const runId = run.slice(run.lastIndexOf('.') + 1);
        let record = await ledger.getRequest(requestId);
        if (record?.status === 'in_progress' && record.runId === runId) {
          await ledger.finishRequest(requestId, runId, {
            status: 'failed',
            updatedAt: new Date(now).toISOString(),
            tier: record.tier,
            modelId: record.modelId,
            inputTokens: 0,
            outputTokens: 0,
            costNanoUsd: 0,
            latencyMs: 0,
            attempts: [],
            error: { code: 'interrupted', message: 'The run was interrupted before it recorded an outcome; retry' },
          });
          record = await ledger.getRequest(requestId);
        }
        // Only the run that wrote the record's outcome charges it, and only if its settlement has not
        // happened (some reservation it settles is still open); anything else is released.
        const settledBefore = !!record?.reservationIds && !rs.some((x) => record!.reservationIds!.includes(x.id));
        const ours = !!record && record.runId === runId && record.status !== 'in_progress' && !settledBefore;
        const counts = ours && record!.status !== 'failed';
        const r = await ledger.settle(month, {
          requestId,
          reservationIds: rs.map((x) => x.id),
          reservedNanoUsd: rs.reduce((n, x) => n + x.nanoUsd, 0),
          requests: counts ? 1 : 0,
          byTier: ours ? usageOfRecord(record!) : {},
        });
        if (r.result === 'settled') {
          if (counts) settled++;
          else released++;
        }
      } catch {
        // One run DynamoDB refused to close does not stop the others; the next pass retries it.
        failed++;
      }
    }
    if (failed && !settled && !released) throw new Error(`reconcile: ${failed} run(s) could not be closed`);
    return { settled, released };
  }

  /**
   * Reconciles this month and the last (a run that died just before a month turned keeps its reservation
   * on the old month's counter). Run on a schedule, so reservations of dead runs never outlive
   * `STALE_RESERVATION_MS` plus the schedule's period, whether or not anyone reads the usage.
   */
  async function reconcileRecent(): Promise<Record<string, { settled: number; released: number }>> {
    const now = new Date(clock.now());
    const thisMonth = monthOf(now.getTime());
    const lastMonth = monthOf(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
    const out: Record<string, { settled: number; released: number }> = {};
    let error: unknown;
    for (const m of [lastMonth, thisMonth]) {
      // A month DynamoDB refuses does not keep the other from being reconciled.
      out[m] = await reconcile(m).catch((e) => {
        error = error ?? e;
        return { settled: 0, released: 0 };
      });
    }
    if (error) throw error;
    return out;
  }

  async function getRequest(requestId: string): Promise<ServiceResult> {
    if (!/^req_[A-Za-z0-9_-]{10,40}$/.test(requestId)) {
      throw new ApiError('not_found', `No request "${requestId}" for this tenant`);
    }
    const r = await ledger.getRequest(requestId);
    if (!r || r.tenantId !== config.tenantId)
      throw new ApiError('not_found', `No request "${requestId}" for this tenant`);
    return { status: 200, body: publicRecord(r) };
  }

  async function getUsage(): Promise<ServiceResult> {
    const month = monthOf(clock.now());
    let u = await ledger.getUsage(month);
    if (u.openReservations.some((r) => clock.now() - r.at > STALE_RESERVATION_MS)) {
      // Best effort: the usage is answered either way (committedUsd shows what is still held).
      await reconcile(month).catch(() => undefined);
      u = await ledger.getUsage(month);
    }
    const share = (nano: number) => (capNano > 0 ? Math.round((nano / capNano) * 10_000) / 10_000 : null);
    return {
      status: 200,
      body: {
        tenantId: config.tenantId,
        month,
        requests: u.requests,
        inputTokens: u.inputTokens,
        outputTokens: u.outputTokens,
        costUsd: nanoToUsd(u.costNanoUsd),
        budgetUsd: config.monthlyBudgetUsd,
        budgetUsedShare: share(u.costNanoUsd),
        committedUsd: nanoToUsd(u.committedNanoUsd),
        runningRequests: new Set(u.openReservations.map((r) => r.requestId)).size,
        nearCapShare: config.routing.nearCapShare,
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
      },
    };
  }

  return { infer, getRequest, getUsage, reconcile, reconcileRecent };
}

export type InferenceService = ReturnType<typeof makeInferenceService>;
