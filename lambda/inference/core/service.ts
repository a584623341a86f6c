/**
 * The inference service: built once per function from its ports, it serves any tenant whose runtime
 * config it is handed. `infer` is the request flow, one step per module:
 *
 *   resolve (`resolve.ts`, `idempotency.ts`: refusals write nothing, pure; a repeat of an idempotency key is
 *     answered from its record)
 *   → reserve (`budget.ts`: the first call's worst-case cost on the month counter; `budget_exceeded`,
 *     nothing written, when the budget cannot hold it; near the cap, `auto` requests drop to the cheapest tier)
 *   → accept (`accept.ts`: the conditional write that claims the request record, the idempotency guard)
 *   → answer (`model-chain.ts`: each tier's model, then its fallbacks, then a neighbouring tier, every call
 *     within the deadline and topped up in the budget before it starts; `cascade-run.ts`: below the tenant's
 *     confidence threshold re-ask the next stronger allowed tier, still unsure at the strongest → review)
 *   → commit (`commit.ts`, `outcome.ts`: the outcome written to the record, the commit point; the month
 *     counter settled exactly once) → hand off (the review workflow started for `pending_review`).
 *
 * It returns an outcome (`outcome.ts`) and throws `DomainError`s; `../http` turns both into responses. A
 * settlement that could not be written (DynamoDB down) leaves the reservation open; the reconciler
 * (`reconciler.ts`) settles it later from the record, which is the source of truth.
 */
import { randomBytes } from 'node:crypto';
import type { InferenceRequest } from '../../shared/api-schema';
import { DomainError } from '../../shared/errors';
import { monthOf } from '../../shared/ledger-schema';
import type { TenantRuntimeConfig } from '../../shared/tenant-runtime';
import { CALL_TIMING } from '../../shared/timing';
import { acceptRun, ledgerDown, type RunStart } from './accept';
import { BudgetHold, budgetLimitsOf, reserveFirstCall } from './budget';
import { runCascade } from './cascade-run';
import { commitRun, handOff } from './commit';
import { callExtrasOf } from './guardrail';
import { bodyHash, replayDecision, requestIdForKey } from './idempotency';
import { ModelChain } from './model-chain';
import { type InferOutcome, summaryOf } from './outcome';
import type {
  Clock,
  ConfidenceFn,
  IdGenerator,
  Ledger,
  ModelInvoker,
  ReviewHandOff,
  ReviewQueue,
  RouteFn,
} from './ports';
import { Reconciler, STALE_RESERVATION_MS } from './reconciler';
import { allowedTiers, resolveRequest } from './resolve';
import { answerResponse, publicRecord, usageView } from './views';

export interface InferenceServiceDeps {
  readonly invoker: ModelInvoker;
  readonly ledger: Ledger;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** The learned router's scorer; without it `auto` means the tenant's default tier. */
  readonly route?: RouteFn;
  /** The confidence scorer for a tenant (it may honour a confidence the answer states). */
  readonly confidenceFor: (tenant: TenantRuntimeConfig) => ConfidenceFn;
  readonly review: ReviewHandOff;
  /** The tenants' review caps (open reviews, reviews per hour). */
  readonly reviewQueue: ReviewQueue;
}

/**
 * `deadlineMs`: no model call runs past it. `recordByMs` (default: 3 s later): the writes after the calls
 * (outcome, settlement, review hand-off) are cut off then, so a hanging DynamoDB cannot hold the function
 * past its timeout; what was not written is closed by the reconciliation.
 */
export interface Deadline {
  readonly deadlineMs: number;
  readonly recordByMs?: number;
}

/** How long a caller should wait before retrying after the models were unavailable. */
const MODEL_RETRY_AFTER_SECONDS = 5;

/** The inference use cases over their ports; one per function, for any tenant it is handed. */
export class InferenceService {
  private readonly reconciler: Reconciler;

  constructor(private readonly deps: InferenceServiceDeps) {
    this.reconciler = new Reconciler(deps);
  }

  private now(): number {
    return this.deps.clock.now();
  }

  /** One `POST /v1/inference` of `tenant`: resolve → reserve → accept → answer → commit → hand off. */
  async infer(tenant: TenantRuntimeConfig, req: InferenceRequest, deadline: Deadline): Promise<InferOutcome> {
    const { ledger, clock, ids } = this.deps;
    const now = () => this.now();
    // Resolve: which tier and model, and whether this repeats an earlier request.
    const routed = resolveRequest(tenant, req, this.deps.route);
    const startNow = now();
    const hash = bodyHash(req);
    const requestId = req.idempotencyKey ? requestIdForKey(tenant.tenantId, req.idempotencyKey) : ids.newRequestId();
    const month = monthOf(startNow);
    // Two concurrent runs of one key (a race the record's conditional writes settle) never share an id.
    const runId = randomBytes(6).toString('hex');
    const existing = req.idempotencyKey ? await ledger.getRequest(requestId).catch(ledgerDown) : undefined;
    const repeat = existing ? replayDecision(existing, hash, now()) : undefined;
    if (repeat?.kind === 'replay') return { kind: 'replayed', response: repeat.response };

    // Reserve: budget first, so a request the budget cannot hold writes nothing.
    const limits = budgetLimitsOf(tenant);
    const extras = callExtrasOf(tenant);
    const hold = new BudgetHold(ledger, clock, limits, { requestId, runId, month });
    const { resolved, budgetDowngrade } = await reserveFirstCall(hold, ledger, tenant, routed, extras, now);

    // Accept: claim the record (or answer from the winner of a race for the same key).
    const run: RunStart = {
      tenant,
      req,
      resolved,
      requestId,
      runId,
      runs: repeat?.runs ?? 1,
      hash,
      month,
      at: new Date(startNow).toISOString(),
      expiresAt: Math.floor(startNow / 1000) + tenant.dataRetentionDays * 86400,
    };
    const accepted = await acceptRun(ledger, run, hold, existing !== undefined, now);
    if (accepted !== 'accepted') return { kind: 'replayed', response: accepted.response };

    // Answer: the model chain, then the cascade.
    const startedAt = now();
    const allowed = allowedTiers(tenant);
    const chain = new ModelChain({
      invoker: this.deps.invoker,
      clock,
      confidence: this.deps.confidenceFor(tenant),
      tenant,
      extras,
      resolved,
      hold,
      deadlineMs: deadline.deadlineMs,
    });
    const cascade = await runCascade(chain, await chain.first(allowed), tenant, allowed, req.maxTokens);

    // Commit: the outcome on the record, then the month counter.
    const commit = {
      tenant,
      requestId,
      runId,
      resolved,
      chain,
      cascade,
      hold,
      limits,
      startedAt,
      recordBy: deadline.recordByMs ?? deadline.deadlineMs + CALL_TIMING.recordReserveMs,
    };
    const committed = await commitRun(this.deps, commit);

    // Hand off: the review workflow, once the record says pending_review.
    const reviewHandOffFailed = !(await handOff(this.deps, commit, committed));

    const { written, notReviewed } = committed;
    const summary = summaryOf(
      written,
      { notReviewed, cascade },
      { ...committed, budgetDowngrade, reviewHandOffFailed },
    );
    if (written.failure) {
      const f = written.failure;
      const retryAfter = f.code === 'model_error' ? undefined : MODEL_RETRY_AFTER_SECONDS;
      return { kind: 'failed', error: new DomainError(f.code, f.message, retryAfter, requestId), summary };
    }
    if (notReviewed) {
      const error = new DomainError(notReviewed.code, notReviewed.message, notReviewed.retryAfterSeconds, requestId);
      return { kind: 'failed', error, summary };
    }
    const { outcome } = written;
    const response = answerResponse({ requestId, routeReason: resolved.routeReason, ...outcome });
    return { kind: outcome.status === 'pending_review' ? 'pending_review' : 'answered', response, summary };
  }

  /** `GET /v1/requests/{id}`: the tenant's request record as callers see it. */
  async getRequest(tenant: TenantRuntimeConfig, requestId: string) {
    if (!/^req_[A-Za-z0-9_-]{10,40}$/.test(requestId)) {
      throw new DomainError('not_found', `No request "${requestId}" for this tenant`);
    }
    const r = await this.deps.ledger.getRequest(requestId);
    if (!r || r.tenantId !== tenant.tenantId) {
      throw new DomainError('not_found', `No request "${requestId}" for this tenant`);
    }
    return publicRecord(r);
  }

  /** `GET /v1/usage`: the month's usage; stale reservations are reconciled first (best effort). */
  async getUsage(tenant: TenantRuntimeConfig) {
    const { ledger } = this.deps;
    const month = monthOf(this.now());
    let u = await ledger.getUsage(month);
    if (u.openReservations.some((r) => this.now() - r.at > STALE_RESERVATION_MS)) {
      // Best effort: the usage is answered either way (committedUsd shows what is still held).
      await this.reconciler.reconcile(month).catch(() => undefined);
      u = await ledger.getUsage(month);
    }
    return usageView(tenant, month, u, budgetLimitsOf(tenant).capNano);
  }

  /** Closes the dead runs of one month (`reconciler.ts`). */
  reconcile(month: string) {
    return this.reconciler.reconcile(month);
  }

  /** The scheduled reconciliation: this month and the last (`reconciler.ts`). */
  reconcileRecent() {
    return this.reconciler.reconcileRecent();
  }
}

/** Creates the service from its ports. */
export function makeInferenceService(deps: InferenceServiceDeps): InferenceService {
  return new InferenceService(deps);
}
