/**
 * The commit and hand-off steps: a place in the review queue (under the tenant's caps) for an answer that
 * needs review, the outcome written to the record (the commit point), the month counter settled from it
 * exactly once, and the review workflow started once the record says `pending_review`.
 */
import { DomainError } from '../../shared/errors';
import { reviewIdFor } from '../../shared/review-schema';
import type { TenantRuntimeConfig } from '../../shared/tenant-runtime';
import type { BudgetHold, BudgetLimits } from './budget';
import type { CascadeEnd } from './cascade-run';
import type { ModelChain } from './model-chain';
import { outcomeOfRun } from './outcome';
import type { Clock, Ledger, ReviewHandOff, ReviewQueue } from './ports';
import type { ResolvedRequest } from './resolve';
import { admitForReview } from './review-admission';

/** The ports the commit needs. */
export interface CommitPorts {
  readonly ledger: Ledger;
  readonly clock: Clock;
  readonly reviewQueue: ReviewQueue;
  readonly review: ReviewHandOff;
}

/** The run being committed. */
export interface CommitInput {
  readonly tenant: TenantRuntimeConfig;
  readonly requestId: string;
  readonly runId: string;
  readonly resolved: ResolvedRequest;
  readonly chain: Pick<ModelChain, 'attempts' | 'failures' | 'skipped'>;
  readonly cascade: CascadeEnd;
  readonly hold: BudgetHold;
  readonly limits: BudgetLimits;
  readonly startedAt: number;
  /** Epoch ms when the writes after the calls are cut off. */
  readonly recordBy: number;
}

/**
 * Writes the run's outcome and settles it. Throws `ledger_unavailable` (with the request id) when the
 * outcome cannot be written: the reservation stays open (the budget stays conservative) and the reconciler
 * closes the run later.
 */
export async function commitRun(ports: CommitPorts, run: CommitInput) {
  const { ledger, clock } = ports;
  const { tenant, requestId, runId, cascade, hold } = run;
  const recordSignal = AbortSignal.timeout(Math.max(1, run.recordBy - clock.now()));

  // A place in the review queue, under the tenant's caps, before the record says pending_review.
  const reviewId = cascade.best && cascade.review ? reviewIdFor(requestId, runId) : undefined;
  const admittedAt = clock.now();
  const notReviewed = reviewId
    ? await admitForReview(
        ports.reviewQueue,
        { reviewId, requestId, at: admittedAt },
        { maxOpen: tenant.escalation.maxOpenReviews, maxPerHour: tenant.escalation.maxReviewsPerHour },
        recordSignal,
      )
    : undefined;
  const queued = reviewId !== undefined && notReviewed === undefined;
  /** A place taken for a review whose request could not be recorded as pending: given back (best effort). */
  const withdraw = async () => {
    if (queued) await ports.reviewQueue.release(reviewId, { admittedAt }, recordSignal).catch(() => undefined);
  };

  const written = outcomeOfRun({
    resolved: run.resolved,
    cascade,
    attempts: run.chain.attempts,
    failures: run.chain.failures,
    skipped: run.chain.skipped,
    reviewId,
    notReviewed,
    startedAt: run.startedAt,
    endedAt: clock.now(),
    reservationIds: hold.reservationIds,
  });
  const { outcome, byTier } = written;

  // The record is the commit point; the counter follows it exactly once.
  let finished: boolean;
  try {
    finished = await ledger.finishRequest(requestId, runId, outcome, recordSignal);
  } catch (e) {
    await withdraw();
    throw new DomainError(
      'ledger_unavailable',
      `The outcome of request ${requestId} could not be recorded (${(e as Error)?.name}); retry with the same idempotencyKey in a minute`,
      60,
      requestId,
    );
  }
  let budgetUsedShare: number | undefined;
  let settlementDeferred = false;
  try {
    const settled = await hold.settle(
      {
        // Answered requests count; failed runs (charged nothing) do not.
        requests: finished && outcome.status !== 'failed' ? 1 : 0,
        // A run whose record was already closed by someone else (the reconciler) charges nothing here.
        byTier: finished ? byTier : {},
      },
      recordSignal,
    );
    const { capNano } = run.limits;
    if (settled.result === 'settled' && capNano > 0) {
      budgetUsedShare = Math.round((settled.costNanoUsd / capNano) * 10_000) / 10_000;
    }
  } catch {
    settlementDeferred = true;
  }
  await hold.releaseUncertain(recordSignal);
  if (!finished) await withdraw();
  return {
    written,
    notReviewed,
    budgetUsedShare,
    settlementDeferred,
    reviewId,
    handOffDue: queued && finished,
    recordSignal,
  };
}

/** What `commitRun` did. */
export type Committed = Awaited<ReturnType<typeof commitRun>>;

/**
 * Hand-off after the record says pending_review, so the workflow finds what it needs. A failed start
 * leaves the record pending_review with its review id; starting again (same execution name) is safe.
 * Returns false when the workflow could not be started.
 */
export async function handOff(ports: Pick<CommitPorts, 'review'>, run: CommitInput, committed: Committed) {
  const { best, cascadeReason } = run.cascade;
  if (!best || !committed.handOffDue) return true;
  try {
    await ports.review.start(
      {
        requestId: run.requestId,
        tenantId: run.tenant.tenantId,
        reviewId: committed.reviewId!,
        confidence: best.confidence,
        reason: cascadeReason ?? 'below the review threshold',
      },
      committed.recordSignal,
    );
    return true;
  } catch {
    return false;
  }
}
