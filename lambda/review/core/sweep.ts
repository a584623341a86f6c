/**
 * The review sweep (the `sweep` step, scheduled every five minutes): pending reviews and the oldest
 * one's age; restarts hand-offs whose workflow never started; applies decisions no execution applied; records
 * failed the reviews still pending after the state machine's timeout (their execution was stopped or timed
 * out); gives back review-queue places whose request is no longer pending review. Every part is idempotent and
 * best effort: what fails now is found again by the next sweep.
 */
import type { ReviewItem, ReviewStepsDeps } from './ports';
import { finish, isoNow, recordFailed, releasePlace } from './resolution';
import type { StepEvent } from './step-event';
import { callWebhook, webhookFailed } from './webhook-steps';

/** How long after its hand-off a request without a started workflow is considered stuck. */
const HAND_OFF_GRACE_SECONDS = 120;
/** Slack past the state machine's timeout before a still-pending review counts as orphaned. */
const ORPHAN_GRACE_SECONDS = 300;
/**
 * A decision not applied this long after it was recorded is applied by the sweeper (a live execution
 * applies it within seconds, or fails applying it within minutes). Applying twice is harmless: moving the
 * request out of pending_review happens once.
 */
const UNAPPLIED_AFTER_MINUTES = 20;
/** Time the sweep spends applying decisions (a webhook call takes up to 5 s; the function has 30 s in all). */
const APPLY_TIME_BUDGET_MS = 12_000;
/**
 * A queue place younger than this may belong to a request still being answered (admitted, not yet recorded
 * as pending review: at most the inference function's timeout), so the sweep leaves it alone.
 */
const QUEUE_PLACE_GRACE_SECONDS = 600;
/** Most pending reviews one sweep reads (pages of 500). */
const PENDING_PAGES = 20;

/** What one sweep did. */
export interface SweepResult {
  readonly pending: number;
  readonly oldestAgeSeconds: number;
  readonly restarted: number;
  readonly orphaned: number;
  readonly applied: number;
  readonly queueReleased: number;
}

/** Runs the sweep; the event's graces (tests set them) default to the deployed ones. */
export async function sweep(deps: ReviewStepsDeps, e: StepEvent): Promise<SweepResult> {
  const restarted = await restartHandOffs(deps, e.handOffGraceSeconds ?? HAND_OFF_GRACE_SECONDS);
  // Pending reviews older than the state machine's timeout have no execution waiting for them any more
  // (aborted by an operator, or timed out as a whole): record them failed instead of leaving them
  // pending forever.
  const orphanGrace = e.orphanGraceSeconds ?? ORPHAN_GRACE_SECONDS;
  const { pending, oldest, orphans } = await pendingReviews(
    deps,
    deps.now() - (deps.config.executionTimeoutSeconds + orphanGrace) * 1000,
  );
  const applied = await applyListedDecisions(deps, e.unappliedAfterMinutes ?? UNAPPLIED_AFTER_MINUTES);
  const orphaned = await recordOrphans(deps, orphans);
  const queueReleased = await reconcileQueue(deps, e.queueGraceSeconds ?? QUEUE_PLACE_GRACE_SECONDS);
  const oldestAgeSeconds = oldest ? Math.max(0, Math.round((deps.now() - Date.parse(oldest)) / 1000)) : 0;
  deps.telemetry.metrics({ pendingReviews: pending, oldestPendingReviewAge: oldestAgeSeconds });
  return { pending, oldestAgeSeconds, restarted, orphaned, applied, queueReleased };
}

/** Counts the pending reviews created at or after `orphanBefore` (and the oldest), and lists the older ones. */
async function pendingReviews(
  deps: ReviewStepsDeps,
  orphanBefore: number,
): Promise<{ pending: number; oldest?: string; orphans: ReviewItem[] }> {
  const orphans: ReviewItem[] = [];
  let pending = 0;
  let oldest: string | undefined;
  let cursor: string | undefined;
  for (let page = 0; page < PENDING_PAGES; page++) {
    const p = await deps.store.listPending(500, cursor);
    for (const r of p.items) {
      if (Date.parse(r.createdAt) < orphanBefore) orphans.push(r);
      else {
        pending++;
        oldest = oldest ?? r.createdAt;
      }
    }
    cursor = p.next;
    if (!cursor) break;
  }
  return { pending, ...(oldest ? { oldest } : {}), orphans };
}

/**
 * Hand-offs whose workflow never started (StartExecution failed after the request was recorded): start
 * them now. The execution name is the review id, so a start that did happen is not repeated.
 */
async function restartHandOffs(deps: ReviewStepsDeps, graceSeconds: number): Promise<number> {
  const before = new Date(deps.now() - graceSeconds * 1000).toISOString();
  let restarted = 0;
  for (const h of await deps.store.listHandOffs(before, 50)) {
    try {
      await deps.handOff.start({ tenantId: deps.config.tenantId, requestId: h.requestId, reviewId: h.reviewId });
      restarted++;
    } catch (err) {
      deps.telemetry.log('WARN', 'review hand-off still failing', {
        reviewId: h.reviewId,
        error: (err as Error)?.name,
      });
    }
  }
  if (restarted) deps.telemetry.log('INFO', 'review hand-offs restarted', { restarted });
  return restarted;
}

/**
 * Decisions recorded but never applied (the execution was stopped, or failed applying them): applies
 * them and tells the webhook as the execution would have. Returns how many requests it moved.
 */
async function applyListedDecisions(deps: ReviewStepsDeps, afterMinutes: number): Promise<number> {
  let applied = 0;
  const started = deps.now();
  for (const t of await deps.store.listToApply(new Date(started - afterMinutes * 60_000).toISOString(), 200)) {
    // Leave time for the rest of the sweep; what is left waits for the next one.
    if (deps.now() - started > APPLY_TIME_BUDGET_MS) break;
    try {
      if (await applyListed(deps, t.reviewId)) applied++;
    } catch (err) {
      deps.telemetry.log('WARN', 'unapplied decision still failing', {
        reviewId: t.reviewId,
        error: (err as Error)?.name,
      });
    }
  }
  if (applied) deps.telemetry.log('WARN', 'unapplied decisions applied by the sweeper', { applied });
  return applied;
}

/** Applies one listed review's decision; true if this moved its request. */
async function applyListed(deps: ReviewStepsDeps, reviewId: string): Promise<boolean> {
  const r = await deps.store.getReview(reviewId);
  // Still pending: the listing came before a decision that was never recorded; the review's own end
  // (decision or timeout) clears it.
  if (!r || r.status === 'pending') return false;
  if (r.status === 'failed') {
    // Recorded failed, but the request was not: finish that (it also clears the listing).
    await deps.store.failRequest(r.requestId, isoNow(deps), r.note ?? 'The review workflow failed');
    await releasePlace(deps, r.reviewId);
    return false;
  }
  if (!(await finish(deps, r)).moved) return false;
  // Only the run that moved the request tells the webhook, so it hears of each outcome once.
  if (deps.webhook) {
    await callWebhook(deps, r.reviewId, r.requestId).catch((err: unknown) =>
      webhookFailed(deps, r.reviewId, (err as Error)?.name),
    );
  }
  return true;
}

/**
 * Gives back the queue places whose request is no longer pending review under that review (a release that
 * failed, a hand-off whose request was never recorded pending): the open-reviews count then matches the
 * reviews that are really open. Places younger than `graceSeconds` are left alone (their request may still
 * be on its way to pending review). Returns how many places it gave back.
 */
async function reconcileQueue(deps: ReviewStepsDeps, graceSeconds: number): Promise<number> {
  let released = 0;
  try {
    const q = await deps.queue.state();
    const stale = q.entries.filter((e) => e.at <= deps.now() - graceSeconds * 1000);
    if (!stale.length) return 0;
    const { found, unread } = await deps.store.requestStates(stale.map((e) => e.requestId));
    for (const e of stale) {
      if (unread.has(e.requestId)) continue;
      const rec = found.get(e.requestId);
      if (rec?.status === 'pending_review' && rec.reviewId === e.reviewId) continue;
      await deps.queue.release(e.reviewId);
      released++;
    }
  } catch (err) {
    deps.telemetry.log('WARN', 'review queue not reconciled', { error: (err as Error)?.name });
  }
  if (released) deps.telemetry.log('WARN', 'stale review queue places given back', { released });
  return released;
}

/** Records orphaned pending reviews (and their requests) failed; returns how many changed. */
async function recordOrphans(deps: ReviewStepsDeps, orphans: readonly ReviewItem[]): Promise<number> {
  const note = 'The review workflow ended without a decision (execution stopped or timed out)';
  let orphaned = 0;
  for (const r of orphans) {
    try {
      // List the request first, so a failure between the two writes is finished by the next sweep.
      await deps.store.markToApply(r.requestId, isoNow(deps));
      if (await recordFailed(deps, r.reviewId, r.requestId, note)) orphaned++;
    } catch (err) {
      deps.telemetry.log('WARN', 'orphaned review not yet recorded', {
        reviewId: r.reviewId,
        error: (err as Error)?.name,
      });
    }
  }
  if (orphaned) {
    deps.telemetry.metrics({ reviewsFailed: orphaned });
    deps.telemetry.log('ERROR', 'orphaned reviews recorded failed', { orphaned });
  }
  return orphaned;
}
