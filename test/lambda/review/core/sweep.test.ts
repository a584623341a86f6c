/** The review sweep on in-memory fakes: restarts, unapplied decisions, orphans, queue places, metrics. */
import { reviewWorld } from './world';

type Swept = {
  pending: number;
  oldestAgeSeconds: number;
  restarted: number;
  orphaned: number;
  applied: number;
  queueReleased: number;
};

describe('review sweep (core, in memory)', () => {
  it("counts pending reviews and the oldest one's age, and emits them", async () => {
    const w = reviewWorld();
    await w.waiting();
    w.clock.advance(30_000);
    await w.waiting();
    w.clock.advance(15_000);
    const swept = (await w.steps.run({ step: 'sweep' })) as Swept;
    expect(swept).toEqual({
      pending: 2,
      oldestAgeSeconds: 45,
      restarted: 0,
      orphaned: 0,
      applied: 0,
      queueReleased: 0,
    });
    expect(w.telemetry.metricRecords).toContainEqual({ pendingReviews: 2, oldestPendingReviewAge: 45 });
  });

  it('restarts hand-offs whose workflow never started, after the grace, with the review id', async () => {
    const w = reviewWorld();
    const ids = w.handedOff();
    expect(((await w.steps.run({ step: 'sweep' })) as Swept).restarted).toBe(0);
    w.clock.advance(121_000);
    w.handOff.failing = true;
    expect(((await w.steps.run({ step: 'sweep' })) as Swept).restarted).toBe(0);
    w.handOff.failing = false;
    expect(((await w.steps.run({ step: 'sweep' })) as Swept).restarted).toBe(1);
    expect(w.handOff.started).toEqual([{ tenantId: 'acme', ...ids }]);
  });

  it('applies a decision no execution applied (once) and tells the webhook once', async () => {
    const w = reviewWorld({}, { webhook: true });
    const { reviewId, requestId } = await w.waiting();
    await w.api.decide(reviewId, { action: 'approve', reviewer: 'ann' });
    expect(((await w.steps.run({ step: 'sweep' })) as Swept).applied).toBe(0); // not yet 20 minutes
    w.clock.advance(21 * 60_000);
    expect(((await w.steps.run({ step: 'sweep' })) as Swept).applied).toBe(1);
    expect(w.store.request(requestId)).toMatchObject({ status: 'reviewed', output: 'answer 1' });
    expect(w.webhook.sent.map((e) => e.deliveryId)).toEqual([`${reviewId}:review.completed`]);
    expect(((await w.steps.run({ step: 'sweep', unappliedAfterMinutes: 0 })) as Swept).applied).toBe(0);
    expect(w.webhook.sent).toHaveLength(1);
  });

  it('records failed the reviews still pending after the state machine timeout, and their requests', async () => {
    const w = reviewWorld({ executionTimeoutSeconds: 60 });
    const old = await w.waiting();
    w.clock.advance(61_000 + 300_000);
    const young = await w.waiting();
    const swept = (await w.steps.run({ step: 'sweep' })) as Swept;
    expect(swept).toMatchObject({ pending: 1, orphaned: 1 });
    expect((await w.store.getReview(old.reviewId))?.status).toBe('failed');
    expect(w.store.request(old.requestId)).toMatchObject({ status: 'failed', error: { code: 'review_failed' } });
    expect((await w.store.getReview(young.reviewId))?.status).toBe('pending');
    expect(w.queue.places.has(old.reviewId)).toBe(false);
    expect(w.telemetry.total('reviewsFailed')).toBe(1);
  });

  it('gives back queue places whose request is no longer pending under that review, after the grace', async () => {
    const w = reviewWorld();
    const open = await w.waiting();
    const done = await w.waiting();
    await w.api.decide(done.reviewId, { action: 'reject', reviewer: 'ann' });
    w.queue.failRelease = true;
    await w.steps.run({ step: 'applyDecision', ...done });
    w.queue.failRelease = false;
    w.queue.admit('rev_never_recorded_0001', 'req_never_recorded', w.clock.now());
    expect(((await w.steps.run({ step: 'sweep' })) as Swept).queueReleased).toBe(0);
    const swept = (await w.steps.run({ step: 'sweep', queueGraceSeconds: 0 })) as Swept;
    expect(swept.queueReleased).toBe(2);
    expect([...w.queue.places.keys()]).toEqual([open.reviewId]);
  });
});
