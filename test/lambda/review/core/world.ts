/** A review core on in-memory fakes, with helpers to bring a request to a waiting review. */
import type { ReviewStepsDeps } from '../../../../lambda/review/core/ports';
import { makeReviewSteps } from '../../../../lambda/review/core/steps';
import { makeReviewApi } from '../../../../lambda/review/http/review-api';
import type { ReviewRuntimeConfig } from '../../../../lambda/shared/review-schema';
import {
  FakeClock,
  FakeHandOff,
  FakeQueue,
  FakeTasks,
  FakeTelemetry,
  FakeWebhook,
  fakeCipher,
  MemoryReviewStore,
} from '../../../support/review-fakes';

export function reviewWorld(config: Partial<ReviewRuntimeConfig> = {}, opts: { webhook?: boolean } = {}) {
  const store = new MemoryReviewStore();
  const clock = new FakeClock();
  const telemetry = new FakeTelemetry();
  const tasks = new FakeTasks();
  const queue = new FakeQueue();
  const handOff = new FakeHandOff();
  const webhook = new FakeWebhook();
  const deps: ReviewStepsDeps = {
    config: {
      tenantId: 'acme',
      onTimeout: 'reject',
      dataRetentionDays: 30,
      executionTimeoutSeconds: 3600,
      maxOpenReviews: 10,
      ...config,
    },
    store,
    cipher: fakeCipher,
    telemetry,
    now: clock.now,
    handOff,
    queue,
    ...(opts.webhook ? { webhook } : {}),
  };
  const steps = makeReviewSteps(deps);
  const api = makeReviewApi({ store, cipher: fakeCipher, tasks, telemetry, now: clock.now });
  let n = 0;

  /** A request recorded pending review and handed off (its queue place taken), as the inference function leaves it. */
  function handedOff() {
    n++;
    const requestId = `req_${String(n).padStart(12, '0')}`;
    const reviewId = `rev_${String(n).padStart(12, '0')}_run`;
    store.putRequest(
      {
        requestId,
        tenantId: 'acme',
        status: 'pending_review',
        tier: 'deep',
        modelId: 'model-deep',
        output: `answer ${n}`,
        confidence: 0.2,
        attempts: [],
        reviewId,
        reviewInput: { messages: [{ role: 'user', content: `question ${n}` }] },
        cascadeReason: 'low confidence',
        routeReason: 'auto: tenant default tier balanced',
        expiresAt: 2_000_000_000,
      },
      new Date(clock.now()).toISOString(),
    );
    queue.admit(reviewId, requestId, clock.now());
    return { reviewId, requestId };
  }

  /** A review whose workflow waits for a decision (recordPending and awaitDecision ran). */
  async function waiting() {
    const ids = handedOff();
    await steps.run({ step: 'recordPending', ...ids });
    const taskToken = `token-${ids.reviewId}`;
    tasks.waiting.add(taskToken);
    await steps.run({ step: 'awaitDecision', ...ids, taskToken });
    return { ...ids, taskToken };
  }

  return { deps, store, clock, telemetry, tasks, queue, handOff, webhook, steps, api, handedOff, waiting };
}
