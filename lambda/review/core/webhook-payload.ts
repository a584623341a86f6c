/**
 * The body of the `review.completed` webhook call. Only what the tenant's API-key side may see: ids, the
 * outcome and when it was decided. Who decided and their note stay in the review API and the export (the
 * webhook endpoint is the tenant's application, not its reviewers).
 */
import type { ReviewItem } from './ports';

/** The JSON body posted to the tenant's webhook when a review ends. */
export interface ReviewWebhookPayload {
  readonly event: 'review.completed';
  readonly tenantId: string;
  readonly requestId: string;
  readonly reviewId: string;
  /** `approved`, `edited`, `rejected`, `expired` or `failed`. */
  readonly outcome: ReviewItem['status'];
  readonly decidedAt: string | null;
  /** Where the caller reads the result (`GET`, with its API key). */
  readonly path: string;
}

/** Builds the webhook body of a review that ended (fields picked, never copied from the item). */
export function reviewWebhookPayload(tenantId: string, review: ReviewItem): ReviewWebhookPayload {
  return {
    event: 'review.completed',
    tenantId,
    requestId: review.requestId,
    reviewId: review.reviewId,
    outcome: review.status,
    decidedAt: review.decidedAt ?? null,
    path: `/v1/requests/${review.requestId}`,
  };
}
