/** Telling the tenant's webhook that a review ended (a workflow step, and the sweep for decisions it applies). */
import type { ReviewStepsDeps } from './ports';
import { mustGetReview } from './resolution';
import { reviewWebhookPayload } from './webhook-payload';

/**
 * Sends `review.completed`: signed and sent to a checked address; a failure is a WebhookFailed (retried),
 * WebhookRefused or WebhookNotConfigured error (caught into {@link webhookFailed}). The delivery id is the
 * same on every retry.
 */
export async function callWebhook(
  deps: ReviewStepsDeps,
  reviewId: string,
  requestId: string,
): Promise<{ delivered: boolean; status?: number }> {
  if (!deps.webhook) return { delivered: false };
  const r = await mustGetReview(deps, reviewId);
  const body = reviewWebhookPayload(deps.config.tenantId, { ...r, requestId });
  const { status } = await deps.webhook.send({ deliveryId: `${reviewId}:review.completed`, payload: body });
  await deps.store.setWebhook(reviewId, 'delivered');
  return { delivered: true, status };
}

/** Records that the webhook could not be told. */
export async function webhookFailed(
  deps: ReviewStepsDeps,
  reviewId: string,
  errorName: string | undefined,
): Promise<{ delivered: false }> {
  await deps.store.setWebhook(reviewId, 'failed');
  deps.telemetry.metrics({ webhookFailures: 1 });
  deps.telemetry.log('WARN', 'webhook not delivered', { reviewId, error: errorName });
  return { delivered: false };
}
