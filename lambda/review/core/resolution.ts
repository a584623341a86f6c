/**
 * How a review's end reaches its request: the resolution a final review state means, applying it (once),
 * recording a failure, and giving the review's place in the queue back. Shared by the workflow steps and the
 * sweep.
 */
import type { MetricKey } from '../../shared/metrics';
import type { ReviewStatus } from '../../shared/review-schema';
import type { ReviewItem, ReviewResolution, ReviewStepsDeps } from './ports';
import { StepError } from './step-event';

const OUTCOME_METRIC: Record<Exclude<ReviewStatus, 'pending'>, MetricKey> = {
  approved: 'reviewsApproved',
  edited: 'reviewsEdited',
  rejected: 'reviewsRejected',
  expired: 'reviewsExpired',
  failed: 'reviewsFailed',
};

/** The current time as ISO text. */
export const isoNow = (deps: Pick<ReviewStepsDeps, 'now'>) => new Date(deps.now()).toISOString();

/** What the applying steps answer (the state machine's `DecisionApplied` choice reads `outcome`). */
export interface Applied {
  readonly reviewId: string;
  readonly requestId: string;
  readonly outcome: ReviewStatus;
  readonly requestStatus: string;
  readonly moved: boolean;
}

export async function mustGetReview(deps: ReviewStepsDeps, reviewId: string): Promise<ReviewItem> {
  const r = await deps.store.getReview(reviewId);
  if (!r) throw new StepError('ReviewNotFound', `Review ${reviewId} does not exist`);
  return r;
}

/** What the request record becomes for a review in its final state. */
function resolutionOf(deps: ReviewStepsDeps, r: ReviewItem): ReviewResolution {
  // Who decided and their note stay on the review item: the request record is what API-key callers read.
  const review = { reviewId: r.reviewId, outcome: r.status, decidedAt: r.decidedAt ?? isoNow(deps) };
  switch (r.status) {
    case 'approved':
    case 'edited':
      return { status: 'reviewed', output: r.finalAnswer ?? r.proposedAnswer, review };
    case 'rejected':
      return { status: 'rejected', review };
    case 'expired':
      // Recorded with the expiry (once), so every later application of it decides the same way.
      return deps.config.onTimeout === 'release_unreviewed' && !r.withheld
        ? { status: 'expired', output: r.proposedAnswer, review: { ...review, unreviewed: true } }
        : { status: 'expired', review: { ...review, ...(r.withheld ? { withheld: r.withheld } : {}) } };
    default:
      throw new StepError('ReviewNotDecided', `Review ${r.reviewId} is ${r.status}`);
  }
}

/** Applies a review's final state to its request (once), gives its queue place back and marks it applied. */
export async function finish(deps: ReviewStepsDeps, r: ReviewItem): Promise<Applied> {
  if (r.status === 'failed') {
    // Recorded failed already (the sweeper found it orphaned, or a failure step ran): nothing to apply.
    return { reviewId: r.reviewId, requestId: r.requestId, outcome: r.status, requestStatus: 'failed', moved: false };
  }
  const resolution = resolutionOf(deps, r);
  const moved = await deps.store.resolveRequest(r.requestId, resolution, isoNow(deps));
  // The request is out of pending_review (moved now, or before): its place in the queue goes back.
  await releasePlace(deps, r.reviewId);
  // Applied: the decision API no longer needs the token to resume this execution, nor the sweeper to apply it.
  if (!r.appliedAt) await deps.store.markApplied(r.reviewId, isoNow(deps));
  if (moved) {
    deps.telemetry.metrics({ [OUTCOME_METRIC[r.status as Exclude<ReviewStatus, 'pending'>]]: 1 });
    deps.telemetry.log('INFO', 'review resolved', { reviewId: r.reviewId, requestId: r.requestId, outcome: r.status });
  }
  return { reviewId: r.reviewId, requestId: r.requestId, outcome: r.status, requestStatus: resolution.status, moved };
}

/** Records a review and its request as failed (each only if still open); true if either changed. */
export async function recordFailed(
  deps: ReviewStepsDeps,
  reviewId: string,
  requestId: string,
  note: string,
): Promise<boolean> {
  const decided = await deps.store.decide(reviewId, { status: 'failed', decidedAt: isoNow(deps), note });
  const failed = await deps.store.failRequest(requestId, isoNow(deps), note);
  await releasePlace(deps, reviewId);
  return decided || failed;
}

/** Gives a review's queue place back; a failure is left to the sweep (`reconcileQueue`). */
export async function releasePlace(deps: ReviewStepsDeps, reviewId: string): Promise<void> {
  try {
    await deps.queue.release(reviewId);
  } catch (err) {
    deps.telemetry.log('WARN', 'review queue place not given back', { reviewId, error: (err as Error)?.name });
  }
}
