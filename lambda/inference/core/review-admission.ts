/**
 * Admission of an answer to human review under the tenant's review caps (`escalation.maxOpenReviews`,
 * `escalation.maxReviewsPerHour`). A review costs a person's time and a Standard workflow; without caps, any
 * API key could fill the reviewers' queue and inbox with cheap requests. When a cap is hit the answer is not
 * released (it needed review) and not queued: the request is recorded `failed` with the refusal's code (the
 * model calls are charged), and the caller is refused with a code of its own and a time to retry after.
 *
 * Pure apart from the port: the messages, codes and retry times are decided here.
 */
import type { ErrorCode } from '../../shared/errors';
import type { ReviewQueue } from './ports';

/** Why an answer that needed review was not queued: the request's error code and message, and when to retry. */
export interface NotReviewed {
  readonly code: Extract<ErrorCode, 'review_queue_full' | 'review_rate_exceeded' | 'review_failed'>;
  readonly message: string;
  readonly retryAfterSeconds?: number;
}

/** Codes of a refusal by a cap: a repeat of the request's idempotency key answers them again. */
export const REVIEW_REFUSALS: ReadonlySet<string> = new Set(['review_queue_full', 'review_rate_exceeded']);

/** When to retry after `review_queue_full`: places free up as people decide; the sweep runs every five minutes. */
export const QUEUE_FULL_RETRY_AFTER_SECONDS = 300;

/** Seconds until the UTC hour after `now` starts (when the hourly cap counts from zero again). */
export function secondsToNextHour(now: number): number {
  return Math.max(1, Math.ceil((3_600_000 - (now % 3_600_000)) / 1000));
}

const AGAIN = 'send it again with a new idempotencyKey (a repeat of this one answers this refusal again, at no charge)';

/** The refusal a repeat of a refused request's idempotency key answers with (its retry time as of `now`). */
export function refusalOfRecord(error: { code: string; message: string } | undefined, now: number) {
  if (!error || !REVIEW_REFUSALS.has(error.code)) return undefined;
  const code = error.code as NotReviewed['code'];
  return {
    code,
    message: error.message,
    retryAfterSeconds: code === 'review_rate_exceeded' ? secondsToNextHour(now) : QUEUE_FULL_RETRY_AFTER_SECONDS,
  };
}

/**
 * Asks the queue for a place; `undefined` when the review was admitted, otherwise why not. A queue that cannot
 * be reached refuses too (`review_failed`): an answer that needs review is never released without one.
 */
export async function admitForReview(
  queue: ReviewQueue,
  slot: { reviewId: string; requestId: string; at: number },
  caps: { maxOpen: number; maxPerHour: number },
  signal?: AbortSignal,
): Promise<NotReviewed | undefined> {
  let admission: Awaited<ReturnType<ReviewQueue['admit']>>;
  try {
    admission = await queue.admit(slot, caps, signal);
  } catch (e) {
    return {
      code: 'review_failed',
      message: `Request ${slot.requestId} was answered and charged, but its answer needs human review and the review queue could not be reached (${(e as Error)?.name ?? 'Error'}); the answer was not released; ${AGAIN}`,
    };
  }
  if (admission.result === 'admitted') return undefined;
  if (admission.result === 'queue_full') {
    return {
      code: 'review_queue_full',
      message: `Request ${slot.requestId} was answered and charged, but its answer needs human review and this tenant already has ${admission.open} answers waiting for review, its limit (escalation.maxOpenReviews: ${caps.maxOpen}); the answer was not released or queued. Retry once reviewers have decided some of them, or ask the platform team to raise the limit; ${AGAIN}`,
      retryAfterSeconds: QUEUE_FULL_RETRY_AFTER_SECONDS,
    };
  }
  return {
    code: 'review_rate_exceeded',
    message: `Request ${slot.requestId} was answered and charged, but its answer needs human review and this tenant has already started ${caps.maxPerHour} reviews this hour (UTC), its limit (escalation.maxReviewsPerHour); the answer was not released or queued. Retry after the hour turns, or ask the platform team to raise the limit; ${AGAIN}`,
    retryAfterSeconds: secondsToNextHour(slot.at),
  };
}
