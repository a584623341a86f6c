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
 *   sweep           the housekeeping sweep (sweep.ts; scheduled every five minutes)
 *
 * Every step that moves a request out of `pending_review` gives its review's place in the queue back
 * (idempotent, best effort: a place left behind is found by the sweep).
 */
import {
  REVIEW_ID_PATTERN,
  REVIEW_NOT_PENDING,
  reviewTimeoutSeconds,
  TOKEN_NOT_SAVED,
} from '../../shared/review-schema';
import type { ReviewItem, ReviewStepsDeps } from './ports';
import { finish, isoNow, mustGetReview, recordFailed } from './resolution';
import { parseStepEvent, StepError, type StepEvent, stepNameOf } from './step-event';
import { sweep } from './sweep';
import { callWebhook, webhookFailed } from './webhook-steps';

function ids(e: StepEvent): { reviewId: string; requestId: string } {
  if (!e.reviewId || !REVIEW_ID_PATTERN.test(e.reviewId) || !e.requestId) {
    throw new StepError('InvalidStepInput', `Step ${e.step} needs a reviewId and a requestId`);
  }
  return { reviewId: e.reviewId, requestId: e.requestId };
}

/**
 * Why a review that timed out must not be released unreviewed, or `undefined`: the queue was flooded during
 * its life — at its cap, or refusing an admission (cap or hourly rate), at any time since the review was
 * admitted — or is at its cap now. A flood is when an unreviewed release would be an attacker's harvest:
 * reviewers cannot keep up by design, so every timeout there is a release nobody could have stopped.
 */
async function floodedDuring(deps: ReviewStepsDeps, r: ReviewItem): Promise<string | undefined> {
  const q = await deps.queue.state();
  const admittedAt = q.entries.find((e) => e.reviewId === r.reviewId)?.at ?? Date.parse(r.createdAt);
  if (q.floodedAt !== undefined && q.floodedAt >= admittedAt) {
    return `queue_flooded: the review queue was full or refused a review at ${new Date(q.floodedAt).toISOString()}, while this review waited`;
  }
  if (q.count >= deps.config.maxOpenReviews) {
    return `queue_flooded: ${q.count} reviews open at the timeout (limit ${deps.config.maxOpenReviews})`;
  }
  return undefined;
}

type Step = (deps: ReviewStepsDeps, e: StepEvent) => Promise<unknown>;

async function recordPending(deps: ReviewStepsDeps, e: StepEvent) {
  const { reviewId, requestId } = ids(e);
  const req = await deps.store.getRequest(requestId);
  if (!req) throw new StepError('RequestNotFound', `Request ${requestId} does not exist`);
  if (req.status === 'pending_review' && req.reviewInput) {
    const now = deps.now();
    await deps.store.createPending({
      reviewId,
      requestId,
      tenantId: deps.config.tenantId,
      status: 'pending',
      createdAt: new Date(now).toISOString(),
      expiresBy: new Date(now + reviewTimeoutSeconds(deps.config) * 1000).toISOString(),
      input: req.reviewInput,
      attempts: req.attempts,
      proposedAnswer: req.output ?? '',
      confidence: req.confidence ?? null,
      tier: req.tier,
      modelId: req.modelId,
      ...(req.cascadeReason ? { reason: req.cascadeReason } : {}),
      ...(req.routeReason ? { routeReason: req.routeReason } : {}),
      expiresAt: req.expiresAt,
    });
  } else if (!(await deps.store.getReview(reviewId))) {
    throw new StepError('RequestNotPendingReview', `Request ${requestId} is ${req.status}, not pending_review`);
  }
  await deps.store.markHandedOff(requestId);
  return { reviewId, requestId, path: `/v1/reviews/${reviewId}` };
}

async function awaitDecision(deps: ReviewStepsDeps, e: StepEvent) {
  const { reviewId } = ids(e);
  if (!e.taskToken) throw new StepError('InvalidStepInput', 'awaitDecision needs the task token');
  let saved: boolean;
  try {
    saved = await deps.store.saveToken(reviewId, await deps.cipher.encrypt(reviewId, e.taskToken));
  } catch (err) {
    throw new StepError(TOKEN_NOT_SAVED, `The task token could not be stored (${(err as Error)?.name})`);
  }
  if (!saved) {
    // Decided (or closed) while this step was being retried: nothing will resume this token.
    throw new StepError(REVIEW_NOT_PENDING, `Review ${reviewId} is no longer pending; applying it`);
  }
  return { waiting: true };
}

async function applyTimeout(deps: ReviewStepsDeps, e: StepEvent) {
  const { reviewId, requestId } = ids(e);
  // Listed first (see the decision API), so an expiry is never recorded without its safety net.
  await deps.store.markToApply(requestId, isoNow(deps));
  const current = await mustGetReview(deps, reviewId);
  const withheld =
    current.status === 'pending' && deps.config.onTimeout === 'release_unreviewed'
      ? await floodedDuring(deps, current)
      : undefined;
  await deps.store.decide(reviewId, {
    status: 'expired',
    decidedAt: isoNow(deps),
    note: e.error?.Error,
    ...(withheld ? { withheld } : {}),
  });
  if (withheld) deps.telemetry.log('WARN', 'expired review not released: queue flooded', { reviewId, requestId });
  // A decision recorded just before the timeout wins over the expiry.
  return finish(deps, await mustGetReview(deps, reviewId));
}

async function recordFailure(deps: ReviewStepsDeps, e: StepEvent) {
  const { reviewId, requestId } = ids(e);
  // Only the error's name is kept: its cause can hold a stack trace or data, and the note is shown.
  const errorName = String(e.error?.Error ?? 'Error').slice(0, 100);
  const current = await deps.store.getReview(reviewId);
  if (current && current.status !== 'pending' && current.status !== 'failed') {
    // A person (or the timeout) already decided: the failure was in applying it. Apply it now; if that
    // fails too, fail the step (retried, then the execution fails) and leave the decision and its
    // token for the sweeper to apply. A decision is never overwritten by a failure.
    return finish(deps, current);
  }
  if (await recordFailed(deps, reviewId, requestId, `The review workflow failed (${errorName})`)) {
    deps.telemetry.metrics({ reviewsFailed: 1 });
  }
  deps.telemetry.log('ERROR', 'review workflow failed', { reviewId, requestId, error: errorName });
  return { reviewId, requestId, outcome: 'failed' };
}

const STEPS: Record<string, Step> = {
  recordPending,
  awaitDecision,
  async applyDecision(deps, e) {
    return finish(deps, await mustGetReview(deps, ids(e).reviewId));
  },
  applyTimeout,
  recordFailure,
  async callWebhook(deps, e) {
    const { reviewId, requestId } = ids(e);
    return callWebhook(deps, reviewId, requestId);
  },
  async webhookFailed(deps, e) {
    return webhookFailed(deps, ids(e).reviewId, e.error?.Error);
  },
  sweep,
};

export function makeReviewSteps(deps: ReviewStepsDeps) {
  return {
    /** Runs the step an event names (`UnknownStep` if none; `InvalidStepInput` for a malformed event). */
    async run(event: unknown): Promise<unknown> {
      const step = stepNameOf(event);
      const fn = typeof step === 'string' && Object.hasOwn(STEPS, step) ? STEPS[step] : undefined;
      if (!fn) throw new StepError('UnknownStep', `Unknown review step "${step}"`);
      return fn(deps, parseStepEvent(step as string, event));
    },
  };
}

export type ReviewSteps = ReturnType<typeof makeReviewSteps>;
