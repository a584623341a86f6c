/**
 * A person's decision on a review. The decision is recorded first (conditional: only a pending review whose
 * workflow is waiting), then the workflow is resumed with the task token, which only the decision function
 * can decrypt. The first decision wins; a second is `review_decided`, a decision after the timeout
 * `review_expired`. The decision is the commit point: the encrypted token stays on the decided review until
 * the workflow applied it, so when resuming fails the same decision can simply be sent again (it resumes,
 * and answers as the first did); a different decision is refused.
 */
import { ApiError } from '../../shared/errors';
import type { Decision } from '../../shared/review-schema';
import { foundReview } from './listing';
import {
  errorName,
  type ReviewCoreDeps,
  type ReviewItem,
  type TaskCallbacks,
  TaskNotWaitingError,
  type TokenCipher,
} from './ports';

/** What deciding needs. */
export interface DecisionDeps extends ReviewCoreDeps {
  readonly cipher: TokenCipher;
  readonly tasks: TaskCallbacks;
}

/** What a decision did: recorded, and whether the workflow was resumed (if not, send the same decision again). */
export interface DecisionOutcome {
  readonly reviewId: string;
  readonly requestId: string;
  readonly status: DecidedStatus;
  readonly decidedAt: string | undefined;
  readonly reviewer: string;
  readonly resumed: boolean;
  readonly retry?: string;
}

type DecidedStatus = 'approved' | 'edited' | 'rejected';

/** Largest review item the decision may leave (DynamoDB's item limit is 400 KB; keep room for attributes). */
const MAX_REVIEW_ITEM_BYTES = 380 * 1024;

/** Why a review cannot take this decision (it is not the same decision sent again). */
function refusal(reviewId: string, cur: ReviewItem): ApiError {
  if (cur.status === 'expired') {
    return new ApiError(
      'review_expired',
      `Review ${reviewId} expired at ${cur.decidedAt} before a decision; it can no longer be decided`,
    );
  }
  if (cur.status === 'pending') {
    return new ApiError(
      'review_not_ready',
      `Review ${reviewId} is not yet waiting for a decision; retry in a few seconds`,
      2,
    );
  }
  return new ApiError(
    'review_decided',
    `Review ${reviewId} was already decided (${cur.status} by ${cur.reviewer ?? 'the workflow'} at ${cur.decidedAt})`,
  );
}

/** The same decision sent again (a retry after a lost or failed response). */
function isSameDecision(cur: ReviewItem, d: Decision, status: DecidedStatus): boolean {
  return (
    cur.status === status &&
    cur.reviewer === d.reviewer &&
    (cur.note ?? undefined) === (d.note || undefined) &&
    (cur.finalAnswer ?? undefined) === (d.action === 'edit' ? d.answer : undefined)
  );
}

/** Refuses an edit that would not fit the review item beside the prompt and the proposed answer. */
function checkEditFits(r: ReviewItem, d: Decision): void {
  if (d.action !== 'edit') return;
  // The edit lands on the review item (beside the prompt and the proposed answer) and on the record.
  const bytes = Buffer.byteLength(JSON.stringify(r), 'utf8') + Buffer.byteLength(d.answer ?? '', 'utf8');
  if (bytes > MAX_REVIEW_ITEM_BYTES) {
    throw new ApiError(
      'payload_too_large',
      `The edited answer is too large to store with this review (${Math.ceil(bytes / 1024)} KB with the prompt and attempts; at most ${MAX_REVIEW_ITEM_BYTES / 1024} KB); shorten it`,
    );
  }
}

/** One decision as asked for: the review it names (by the path's id), what was decided and who called. */
interface Asked {
  readonly reviewId: string;
  readonly d: Decision;
  readonly status: DecidedStatus;
  readonly caller?: string;
}

/** A decision write that failed (it may or may not have landed): sending the same decision again is safe. */
function notRecorded(e: unknown): never {
  throw new ApiError(
    'ledger_unavailable',
    `The decision could not be recorded (${(e as Error)?.name ?? 'Error'}); send the same decision again in a few seconds`,
    2,
  );
}

/** Records the decision on a pending review whose workflow waits; answers the review as it is afterwards. */
async function record(deps: DecisionDeps, r: ReviewItem, { reviewId, d, status, caller }: Asked): Promise<ReviewItem> {
  checkEditFits(r, d);
  // First list the request as waiting for a decision to be applied: the safety net if no execution
  // applies it (stopped, or failing to write). Written before the decision, so a decision is never
  // recorded without it; a listed request whose review is still pending is simply skipped.
  const decidedAt = new Date(deps.now()).toISOString();
  try {
    await deps.store.markToApply(r.requestId, decidedAt);
  } catch (e) {
    throw new ApiError(
      'ledger_unavailable',
      `The decision could not be recorded (${(e as Error)?.name ?? 'Error'}); nothing changed, send it again in a few seconds`,
      2,
    );
  }
  const recorded = await deps.store
    .decide(reviewId, {
      status,
      decidedAt,
      reviewer: d.reviewer,
      ...(caller ? { reviewerIdentity: caller } : {}),
      ...(d.note ? { note: d.note } : {}),
      ...(d.action === 'edit' ? { finalAnswer: d.answer } : {}),
      modelAnswerAccepted: d.action === 'approve',
      requireToken: true,
    })
    .catch(notRecorded);
  const cur = await deps.store.getReview(reviewId);
  if (!cur) throw new ApiError('not_found', `No review "${reviewId}" for this tenant`);
  if (!recorded && !isSameDecision(cur, d, status)) throw refusal(reviewId, cur);
  return cur;
}

/** Resumes the workflow with the decision; false when it should be sent again. */
async function resume(deps: DecisionDeps, r: ReviewItem, { reviewId, d }: Asked): Promise<boolean> {
  if (!r.tokenCiphertext) return true;
  try {
    await deps.tasks.success(await deps.cipher.decrypt(reviewId, r.tokenCiphertext), {
      action: d.action,
      reviewer: d.reviewer,
    });
    return true;
  } catch (e) {
    const gone = e instanceof TaskNotWaitingError;
    // Gone: the task timed out (the timeout step applies this decision: a decision that raced the
    // timeout wins) or a resume sent earlier went through. Otherwise: send the same decision again.
    deps.telemetry.log(gone ? 'WARN' : 'ERROR', 'workflow not resumed', { reviewId, error: errorName(e) });
    return gone;
  }
}

/**
 * Records a person's decision, then resumes the workflow with it. `caller` is who AWS authenticated for the
 * call (IAM principal), stored beside the reviewer's own name.
 */
export async function decideReview(
  deps: DecisionDeps,
  reviewId: string,
  d: Decision,
  caller?: string,
): Promise<DecisionOutcome> {
  let r = await foundReview(deps, reviewId);
  const status: DecidedStatus = d.action === 'approve' ? 'approved' : d.action === 'edit' ? 'edited' : 'rejected';
  const asked: Asked = { reviewId, d, status, ...(caller ? { caller } : {}) };
  if (r.status === 'pending' && r.tokenCiphertext) r = await record(deps, r, asked);
  else if (!isSameDecision(r, d, status)) throw refusal(reviewId, r);
  const resumed = await resume(deps, r, asked);
  return {
    reviewId,
    requestId: r.requestId,
    status,
    decidedAt: r.decidedAt,
    reviewer: d.reviewer,
    resumed,
    ...(resumed
      ? {}
      : { retry: 'the decision is recorded but the workflow was not resumed; send the same decision again' }),
  };
}
