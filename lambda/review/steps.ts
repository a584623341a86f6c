/**
 * The review state machine's task steps. Each step is idempotent (Step Functions may retry it): the
 * conditional writes in the store make a repeat a no-op, and a step that finds its work done returns the
 * same result. The ledger is the source of truth; the state machine only sequences the steps.
 *
 *   recordPending   request record (pending_review) → review item (pending, in the pending index)
 *   awaitDecision   stores the task token, encrypted; the execution then waits for the decision API
 *   applyDecision   the decision a person recorded → the request record (reviewed / rejected)
 *   applyTimeout    no decision in time → the tenant's policy (release unreviewed, or reject) → expired;
 *                   a decision that raced the timeout wins; never released unreviewed when the review queue
 *                   was flooded during the review's life (see `floodedDuring`)
 *   recordFailure   a step failed after its retries → review and request failed
 *   callWebhook     tells the tenant's webhook the outcome (retried by the state machine)
 *   webhookFailed   records that the webhook could not be told
 *   sweep           emits pending reviews and the oldest one's age; restarts hand-offs whose workflow never
 *                   started; applies decisions no execution applied; records failed the reviews still pending
 *                   after the state machine's timeout (their execution was stopped or timed out); gives back
 *                   review-queue places whose request is no longer pending review (scheduled every five minutes)
 *
 * Every step that moves a request out of `pending_review` gives its review's place in the queue back
 * (idempotent, best effort: a place left behind is found by the sweep).
 */

import type { DynamoReviewQueue } from '../inference/adapters/dynamo-review-queue';
import type { MetricKey } from '../shared/metrics';
import {
  REVIEW_ID_PATTERN,
  REVIEW_NOT_PENDING,
  type ReviewExecutionInput,
  type ReviewRuntimeConfig,
  type ReviewStatus,
  TOKEN_NOT_SAVED,
} from '../shared/review-schema';
import type { Telemetry } from '../shared/telemetry';
import type { ReviewItem, ReviewResolution, ReviewStore } from './store';
import type { TokenCipher } from './token-cipher';
import { reviewWebhookPayload } from './webhook-payload';
import type { WebhookSender } from './webhook-sender';

export interface ReviewStepsDeps {
  readonly config: ReviewRuntimeConfig;
  readonly store: ReviewStore;
  readonly cipher: TokenCipher;
  readonly telemetry: Telemetry;
  readonly now: () => number;
  /**
   * Signs and delivers webhook events (webhook-sender.ts).
   * @default - the tenant has no webhook: nothing is sent
   */
  readonly webhook?: WebhookSender;
  /** Starts a review workflow (idempotent per review id), for hand-offs that failed. */
  readonly handOff: { start(input: ReviewExecutionInput): Promise<void> };
  /** The tenant's review queue (caps): places are given back when reviews end. */
  readonly queue: Pick<DynamoReviewQueue, 'release' | 'state'>;
}

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

/** A step's input as the state machine sends it. */
export interface StepEvent {
  readonly step: string;
  readonly reviewId?: string;
  readonly requestId?: string;
  readonly taskToken?: string;
  readonly error?: { readonly Error?: string; readonly Cause?: string };
  readonly outcome?: { readonly outcome?: string; readonly status?: string };
}

/** A failure the state machine should retry, then catch (its `name` is the error name Step Functions sees). */
export class StepError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const OUTCOME_METRIC: Record<Exclude<ReviewStatus, 'pending'>, MetricKey> = {
  approved: 'reviewsApproved',
  edited: 'reviewsEdited',
  rejected: 'reviewsRejected',
  expired: 'reviewsExpired',
  failed: 'reviewsFailed',
};

export function makeReviewSteps(deps: ReviewStepsDeps) {
  const { store, config, cipher, telemetry } = deps;
  const iso = () => new Date(deps.now()).toISOString();

  function ids(e: StepEvent): { reviewId: string; requestId: string } {
    if (!e.reviewId || !REVIEW_ID_PATTERN.test(e.reviewId) || !e.requestId) {
      throw new StepError('InvalidStepInput', `Step ${e.step} needs a reviewId and a requestId`);
    }
    return { reviewId: e.reviewId, requestId: e.requestId };
  }

  async function mustGetReview(reviewId: string): Promise<ReviewItem> {
    const r = await store.getReview(reviewId);
    if (!r) throw new StepError('ReviewNotFound', `Review ${reviewId} does not exist`);
    return r;
  }

  /** What the request record becomes for a review in its final state. */
  function resolutionOf(r: ReviewItem): ReviewResolution {
    // Who decided and their note stay on the review item: the request record is what API-key callers read.
    const review = { reviewId: r.reviewId, outcome: r.status, decidedAt: r.decidedAt ?? iso() };
    switch (r.status) {
      case 'approved':
      case 'edited':
        return { status: 'reviewed', output: r.finalAnswer ?? r.proposedAnswer, review };
      case 'rejected':
        return { status: 'rejected', review };
      case 'expired':
        // Recorded with the expiry (once), so every later application of it decides the same way.
        return config.onTimeout === 'release_unreviewed' && !r.withheld
          ? { status: 'expired', output: r.proposedAnswer, review: { ...review, unreviewed: true } }
          : { status: 'expired', review: { ...review, ...(r.withheld ? { withheld: r.withheld } : {}) } };
      default:
        throw new StepError('ReviewNotDecided', `Review ${r.reviewId} is ${r.status}`);
    }
  }

  async function finish(r: ReviewItem) {
    if (r.status === 'failed') {
      // Recorded failed already (the sweeper found it orphaned, or a failure step ran): nothing to apply.
      return { reviewId: r.reviewId, requestId: r.requestId, outcome: r.status, requestStatus: 'failed', moved: false };
    }
    const resolution = resolutionOf(r);
    const moved = await store.resolveRequest(r.requestId, resolution, iso());
    // The request is out of pending_review (moved now, or before): its place in the queue goes back.
    await releasePlace(r.reviewId);
    // Applied: the decision API no longer needs the token to resume this execution, nor the sweeper to apply it.
    if (!r.appliedAt) await store.markApplied(r.reviewId, iso());
    if (moved) {
      telemetry.metrics({ [OUTCOME_METRIC[r.status as Exclude<ReviewStatus, 'pending'>]]: 1 });
      telemetry.log('INFO', 'review resolved', { reviewId: r.reviewId, requestId: r.requestId, outcome: r.status });
    }
    return { reviewId: r.reviewId, requestId: r.requestId, outcome: r.status, requestStatus: resolution.status, moved };
  }

  /** Records a review and its request as failed (each only if still open); true if either changed. */
  async function recordFailed(reviewId: string, requestId: string, note: string): Promise<boolean> {
    const decided = await store.decide(reviewId, { status: 'failed', decidedAt: iso(), note });
    const failed = await store.failRequest(requestId, iso(), note);
    await releasePlace(reviewId);
    return decided || failed;
  }

  /** Gives a review's queue place back; a failure is left to the sweep (`reconcileQueue`). */
  async function releasePlace(reviewId: string): Promise<void> {
    try {
      await deps.queue.release(reviewId);
    } catch (err) {
      telemetry.log('WARN', 'review queue place not given back', { reviewId, error: (err as Error)?.name });
    }
  }

  /**
   * Why a review that timed out must not be released unreviewed, or `undefined`: the queue was flooded during
   * its life — at its cap, or refusing an admission (cap or hourly rate), at any time since the review was
   * admitted — or is at its cap now. A flood is when an unreviewed release would be an attacker's harvest:
   * reviewers cannot keep up by design, so every timeout there is a release nobody could have stopped.
   */
  async function floodedDuring(r: ReviewItem): Promise<string | undefined> {
    const q = await deps.queue.state();
    const admittedAt = q.entries.find((e) => e.reviewId === r.reviewId)?.at ?? Date.parse(r.createdAt);
    if (q.floodedAt !== undefined && q.floodedAt >= admittedAt) {
      return `queue_flooded: the review queue was full or refused a review at ${new Date(q.floodedAt).toISOString()}, while this review waited`;
    }
    if (q.count >= config.maxOpenReviews) {
      return `queue_flooded: ${q.count} reviews open at the timeout (limit ${config.maxOpenReviews})`;
    }
    return undefined;
  }

  const steps: Record<string, (e: StepEvent) => Promise<unknown>> = {
    async recordPending(e) {
      const { reviewId, requestId } = ids(e);
      const req = await store.getRequest(requestId);
      if (!req) throw new StepError('RequestNotFound', `Request ${requestId} does not exist`);
      if (req.status === 'pending_review' && req.reviewInput) {
        await store.createPending({
          reviewId,
          requestId,
          tenantId: config.tenantId,
          status: 'pending',
          createdAt: iso(),
          input: req.reviewInput,
          attempts: req.attempts,
          proposedAnswer: req.output ?? '',
          confidence: req.confidence ?? null,
          tier: req.tier,
          modelId: req.modelId,
          ...(req.cascadeReason ? { reason: req.cascadeReason } : {}),
          expiresAt: req.expiresAt,
        });
      } else if (!(await store.getReview(reviewId))) {
        throw new StepError('RequestNotPendingReview', `Request ${requestId} is ${req.status}, not pending_review`);
      }
      await store.markHandedOff(requestId);
      return { reviewId, requestId, path: `/v1/reviews/${reviewId}` };
    },

    async awaitDecision(e) {
      const { reviewId } = ids(e);
      if (!e.taskToken) throw new StepError('InvalidStepInput', 'awaitDecision needs the task token');
      let saved: boolean;
      try {
        saved = await store.saveToken(reviewId, await cipher.encrypt(reviewId, e.taskToken));
      } catch (err) {
        throw new StepError(TOKEN_NOT_SAVED, `The task token could not be stored (${(err as Error)?.name})`);
      }
      if (!saved) {
        // Decided (or closed) while this step was being retried: nothing will resume this token.
        throw new StepError(REVIEW_NOT_PENDING, `Review ${reviewId} is no longer pending; applying it`);
      }
      return { waiting: true };
    },

    async applyDecision(e) {
      const { reviewId } = ids(e);
      return finish(await mustGetReview(reviewId));
    },

    async applyTimeout(e) {
      const { reviewId, requestId } = ids(e);
      // Listed first (see the decision API), so an expiry is never recorded without its safety net.
      await store.markToApply(requestId, iso());
      const current = await mustGetReview(reviewId);
      const withheld =
        current.status === 'pending' && config.onTimeout === 'release_unreviewed'
          ? await floodedDuring(current)
          : undefined;
      await store.decide(reviewId, {
        status: 'expired',
        decidedAt: iso(),
        note: e.error?.Error,
        ...(withheld ? { withheld } : {}),
      });
      if (withheld) telemetry.log('WARN', 'expired review not released: queue flooded', { reviewId, requestId });
      // A decision recorded just before the timeout wins over the expiry.
      return finish(await mustGetReview(reviewId));
    },

    async recordFailure(e) {
      const { reviewId, requestId } = ids(e);
      // Only the error's name is kept: its cause can hold a stack trace or data, and the note is shown.
      const errorName = String(e.error?.Error ?? 'Error').slice(0, 100);
      const current = await store.getReview(reviewId);
      if (current && current.status !== 'pending' && current.status !== 'failed') {
        // A person (or the timeout) already decided: the failure was in applying it. Apply it now; if that
        // fails too, fail the step (retried, then the execution fails) and leave the decision and its
        // token for the sweeper to apply. A decision is never overwritten by a failure.
        return finish(current);
      }
      if (await recordFailed(reviewId, requestId, `The review workflow failed (${errorName})`)) {
        telemetry.metrics({ reviewsFailed: 1 });
      }
      telemetry.log('ERROR', 'review workflow failed', { reviewId, requestId, error: errorName });
      return { reviewId, requestId, outcome: 'failed' };
    },

    async callWebhook(e) {
      const { reviewId, requestId } = ids(e);
      if (!deps.webhook) return { delivered: false };
      const r = await mustGetReview(reviewId);
      const body = reviewWebhookPayload(config.tenantId, { ...r, requestId });
      // Signed and sent to a checked address; a failure is a WebhookFailed (retried), WebhookRefused or
      // WebhookNotConfigured error (caught into webhookFailed). The id is the same on every retry.
      const { status } = await deps.webhook.send({ deliveryId: `${reviewId}:review.completed`, payload: body });
      await store.setWebhook(reviewId, 'delivered');
      return { delivered: true, status };
    },

    async webhookFailed(e) {
      const { reviewId } = ids(e);
      await store.setWebhook(reviewId, 'failed');
      telemetry.metrics({ webhookFailures: 1 });
      telemetry.log('WARN', 'webhook not delivered', { reviewId, error: e.error?.Error });
      return { delivered: false };
    },

    async sweep(e) {
      const opts = e as {
        handOffGraceSeconds?: number;
        orphanGraceSeconds?: number;
        unappliedAfterMinutes?: number;
        queueGraceSeconds?: number;
      };
      const restarted = await restartHandOffs(opts.handOffGraceSeconds ?? HAND_OFF_GRACE_SECONDS);
      // Pending reviews older than the state machine's timeout have no execution waiting for them any more
      // (aborted by an operator, or timed out as a whole): record them failed instead of leaving them
      // pending forever.
      const orphanGrace = opts.orphanGraceSeconds ?? ORPHAN_GRACE_SECONDS;
      const orphanBefore = deps.now() - (config.executionTimeoutSeconds + orphanGrace) * 1000;
      const orphans: ReviewItem[] = [];
      let pending = 0;
      let oldest: string | undefined;
      let cursor: string | undefined;
      for (let page = 0; page < 20; page++) {
        const p = await store.listPending(500, cursor);
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
      const applied = await applyListedDecisions(opts.unappliedAfterMinutes ?? UNAPPLIED_AFTER_MINUTES);
      const orphaned = await recordOrphans(orphans);
      const released = await reconcileQueue(opts.queueGraceSeconds ?? QUEUE_PLACE_GRACE_SECONDS);
      const ageSeconds = oldest ? Math.max(0, Math.round((deps.now() - Date.parse(oldest)) / 1000)) : 0;
      telemetry.metrics({ pendingReviews: pending, oldestPendingReviewAge: ageSeconds });
      return { pending, oldestAgeSeconds: ageSeconds, restarted, orphaned, applied, queueReleased: released };
    },
  };

  /**
   * Hand-offs whose workflow never started (StartExecution failed after the request was recorded): start
   * them now. The execution name is the review id, so a start that did happen is not repeated.
   */
  async function restartHandOffs(graceSeconds: number): Promise<number> {
    const before = new Date(deps.now() - graceSeconds * 1000).toISOString();
    let restarted = 0;
    for (const h of await store.listHandOffs(before, 50)) {
      try {
        await deps.handOff.start({ tenantId: config.tenantId, requestId: h.requestId, reviewId: h.reviewId });
        restarted++;
      } catch (err) {
        telemetry.log('WARN', 'review hand-off still failing', { reviewId: h.reviewId, error: (err as Error)?.name });
      }
    }
    if (restarted) telemetry.log('INFO', 'review hand-offs restarted', { restarted });
    return restarted;
  }

  /**
   * Decisions recorded but never applied (the execution was stopped, or failed applying them): applies
   * them and tells the webhook as the execution would have. Returns how many requests it moved.
   */
  async function applyListedDecisions(afterMinutes: number): Promise<number> {
    let applied = 0;
    const started = deps.now();
    for (const t of await store.listToApply(new Date(started - afterMinutes * 60_000).toISOString(), 200)) {
      // Leave time for the rest of the sweep; what is left waits for the next one.
      if (deps.now() - started > APPLY_TIME_BUDGET_MS) break;
      try {
        if (await applyListed(t.reviewId)) applied++;
      } catch (err) {
        telemetry.log('WARN', 'unapplied decision still failing', {
          reviewId: t.reviewId,
          error: (err as Error)?.name,
        });
      }
    }
    if (applied) telemetry.log('WARN', 'unapplied decisions applied by the sweeper', { applied });
    return applied;
  }

  /** Applies one listed review's decision; true if this moved its request. */
  async function applyListed(reviewId: string): Promise<boolean> {
    const r = await store.getReview(reviewId);
    // Still pending: the listing came before a decision that was never recorded; the review's own end
    // (decision or timeout) clears it.
    if (!r || r.status === 'pending') return false;
    if (r.status === 'failed') {
      // Recorded failed, but the request was not: finish that (it also clears the listing).
      await store.failRequest(r.requestId, iso(), r.note ?? 'The review workflow failed');
      await releasePlace(r.reviewId);
      return false;
    }
    if (!(await finish(r)).moved) return false;
    // Only the run that moved the request tells the webhook, so it hears of each outcome once.
    if (deps.webhook) {
      const event = { reviewId: r.reviewId, requestId: r.requestId };
      await steps
        .callWebhook({ step: 'callWebhook', ...event })
        .catch((err: unknown) =>
          steps.webhookFailed({ step: 'webhookFailed', ...event, error: { Error: (err as Error)?.name } }),
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
  async function reconcileQueue(graceSeconds: number): Promise<number> {
    let released = 0;
    try {
      const q = await deps.queue.state();
      const stale = q.entries.filter((e) => e.at <= deps.now() - graceSeconds * 1000);
      if (!stale.length) return 0;
      const { found, unread } = await store.requestStates(stale.map((e) => e.requestId));
      for (const e of stale) {
        if (unread.has(e.requestId)) continue;
        const rec = found.get(e.requestId);
        if (rec?.status === 'pending_review' && rec.reviewId === e.reviewId) continue;
        await deps.queue.release(e.reviewId);
        released++;
      }
    } catch (err) {
      telemetry.log('WARN', 'review queue not reconciled', { error: (err as Error)?.name });
    }
    if (released) telemetry.log('WARN', 'stale review queue places given back', { released });
    return released;
  }

  /** Records orphaned pending reviews (and their requests) failed; returns how many changed. */
  async function recordOrphans(orphans: readonly ReviewItem[]): Promise<number> {
    const note = 'The review workflow ended without a decision (execution stopped or timed out)';
    let orphaned = 0;
    for (const r of orphans) {
      try {
        // List the request first, so a failure between the two writes is finished by the next sweep.
        await store.markToApply(r.requestId, iso());
        if (await recordFailed(r.reviewId, r.requestId, note)) orphaned++;
      } catch (err) {
        telemetry.log('WARN', 'orphaned review not yet recorded', {
          reviewId: r.reviewId,
          error: (err as Error)?.name,
        });
      }
    }
    if (orphaned) {
      telemetry.metrics({ reviewsFailed: orphaned });
      telemetry.log('ERROR', 'orphaned reviews recorded failed', { orphaned });
    }
    return orphaned;
  }

  return {
    async run(e: StepEvent): Promise<unknown> {
      const fn = steps[e?.step];
      if (!fn) throw new StepError('UnknownStep', `Unknown review step "${e?.step}"`);
      return fn(e);
    },
  };
}

export type ReviewSteps = ReturnType<typeof makeReviewSteps>;
