/** The review workflow's steps on in-memory fakes: each step once, decisions applied, timeouts, failures, events parsed. */
import { reviewWorld } from './world';

async function errorNameOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => (e as Error).name,
  );
}

describe('review steps (core, in memory)', () => {
  it('recordPending creates the review from the request (once) and takes the request off the hand-off list', async () => {
    const w = reviewWorld();
    const ids = w.handedOff();
    const out = await w.steps.run({ step: 'recordPending', ...ids });
    expect(out).toEqual({ ...ids, path: `/v1/reviews/${ids.reviewId}` });
    expect(await w.store.getReview(ids.reviewId)).toMatchObject({
      status: 'pending',
      proposedAnswer: 'answer 1',
      reason: 'low confidence',
      input: { messages: [{ role: 'user', content: 'question 1' }] },
    });
    expect(w.store.requestListing(ids.requestId)).toBeUndefined();
    expect(await w.steps.run({ step: 'recordPending', ...ids })).toEqual(out);
  });

  it("the reviewer's view shows the route reason and when the review expires (created + review timeout)", async () => {
    const w = reviewWorld({ executionTimeoutSeconds: (45 + 30) * 60 }); // a 45-minute review timeout
    const created = w.clock.now();
    const { reviewId } = await w.waiting();
    const view = (await w.api.get(reviewId)).body as Record<string, unknown>;
    expect(view).toMatchObject({
      routeReason: 'auto: tenant default tier balanced',
      reason: 'low confidence',
      createdAt: new Date(created).toISOString(),
      expiresBy: new Date(created + 45 * 60_000).toISOString(),
    });
    await w.api.decide(reviewId, { action: 'approve', reviewer: 'ann' });
    // A decided review no longer expires.
    expect((await w.api.get(reviewId)).body).toMatchObject({ status: 'approved', expiresBy: null });
  });

  it('applyDecision moves the request once, gives the queue place back and drops the token', async () => {
    const w = reviewWorld();
    const { reviewId, requestId } = await w.waiting();
    const ids = { reviewId, requestId };
    await w.api.decide(ids.reviewId, { action: 'edit', answer: 'better', reviewer: 'ann', note: 'n' });
    const applied = await w.steps.run({ step: 'applyDecision', ...ids });
    expect(applied).toEqual({ ...ids, outcome: 'edited', requestStatus: 'reviewed', moved: true });
    const req = w.store.request(ids.requestId);
    expect(req).toMatchObject({ status: 'reviewed', output: 'better', review: { outcome: 'edited' } });
    // The request record shows outcome and time only.
    expect(JSON.stringify(req?.review)).not.toContain('ann');
    expect(req?.reviewInput).toBeUndefined();
    expect(w.queue.places.has(ids.reviewId)).toBe(false);
    expect((await w.store.getReview(ids.reviewId))?.tokenCiphertext).toBeUndefined();
    expect(w.telemetry.total('reviewsEdited')).toBe(1);
    expect(await w.steps.run({ step: 'applyDecision', ...ids })).toMatchObject({ moved: false });
    expect(w.telemetry.total('reviewsEdited')).toBe(1);
  });

  it('applyTimeout: rejects, or releases unreviewed, and a decision recorded just before the timeout wins', async () => {
    const rejecting = reviewWorld();
    const r = await rejecting.waiting();
    expect(await rejecting.steps.run({ step: 'applyTimeout', ...r, error: { Error: 'States.Timeout' } })).toMatchObject(
      {
        outcome: 'expired',
        requestStatus: 'expired',
      },
    );
    expect(rejecting.store.request(r.requestId)?.output).toBeUndefined();

    const releasing = reviewWorld({ onTimeout: 'release_unreviewed' });
    const u = await releasing.waiting();
    await releasing.steps.run({ step: 'applyTimeout', ...u, error: { Error: 'States.HeartbeatTimeout' } });
    expect(releasing.store.request(u.requestId)).toMatchObject({
      status: 'expired',
      output: 'answer 1',
      review: { unreviewed: true },
    });
    expect((await releasing.store.getReview(u.reviewId))?.note).toBe('States.HeartbeatTimeout');

    const raced = await releasing.waiting();
    await releasing.api.decide(raced.reviewId, { action: 'reject', reviewer: 'ann' });
    expect(await releasing.steps.run({ step: 'applyTimeout', ...raced })).toMatchObject({ outcome: 'rejected' });
  });

  it('applyTimeout never releases unreviewed from a queue that was flooded during the review, or is full now', async () => {
    const w = reviewWorld({ onTimeout: 'release_unreviewed', maxOpenReviews: 3 });
    const a = await w.waiting();
    w.queue.floodedAt = w.clock.now() + 1;
    await w.steps.run({ step: 'applyTimeout', ...a });
    expect(w.store.request(a.requestId)?.output).toBeUndefined();
    expect((await w.store.getReview(a.reviewId))?.withheld).toMatch(/^queue_flooded: the review queue was full/);

    const full = reviewWorld({ onTimeout: 'release_unreviewed', maxOpenReviews: 2 });
    const b = await full.waiting();
    await full.waiting();
    await full.steps.run({ step: 'applyTimeout', ...b });
    expect(full.store.request(b.requestId)).toMatchObject({
      status: 'expired',
      review: { withheld: expect.any(String) },
    });
    expect(full.store.request(b.requestId)?.output).toBeUndefined();
  });

  it('awaitDecision: a review decided meanwhile is ReviewNotPending; a token that cannot be stored TokenNotSaved', async () => {
    const w = reviewWorld();
    const ids = await w.waiting();
    await w.api.decide(ids.reviewId, { action: 'approve', reviewer: 'ann' });
    expect(await errorNameOf(w.steps.run({ step: 'awaitDecision', ...ids, taskToken: 't2' }))).toBe('ReviewNotPending');
    const other = w.handedOff();
    await w.steps.run({ step: 'recordPending', ...other });
    w.store.failing.add('saveToken');
    expect(await errorNameOf(w.steps.run({ step: 'awaitDecision', ...other, taskToken: 't3' }))).toBe('TokenNotSaved');
  });

  it('recordFailure fails an undecided review and its request, but applies a decision already made', async () => {
    const w = reviewWorld();
    const { taskToken: _a, ...a } = await w.waiting();
    expect(
      await w.steps.run({ step: 'recordFailure', ...a, error: { Error: 'Lambda.Unknown', Cause: 'stack' } }),
    ).toEqual({
      ...a,
      outcome: 'failed',
    });
    expect(w.store.request(a.requestId)).toMatchObject({
      status: 'failed',
      error: { code: 'review_failed', message: 'The review workflow failed (Lambda.Unknown)' },
    });
    expect(w.telemetry.total('reviewsFailed')).toBe(1);
    const b = await w.waiting();
    await w.api.decide(b.reviewId, { action: 'approve', reviewer: 'ann' });
    expect(await w.steps.run({ step: 'recordFailure', ...b })).toMatchObject({ outcome: 'approved', moved: true });
  });

  it('callWebhook sends the outcome only (same delivery id on every retry); webhookFailed records the failure', async () => {
    const w = reviewWorld({}, { webhook: true });
    const { taskToken: _t, ...ids } = await w.waiting();
    await w.api.decide(ids.reviewId, { action: 'approve', reviewer: 'ann', note: 'secret note' });
    expect(await w.steps.run({ step: 'callWebhook', ...ids })).toEqual({ delivered: true, status: 204 });
    expect(w.webhook.sent).toEqual([
      {
        deliveryId: `${ids.reviewId}:review.completed`,
        payload: {
          event: 'review.completed',
          tenantId: 'acme',
          ...ids,
          outcome: 'approved',
          decidedAt: expect.any(String),
          path: `/v1/requests/${ids.requestId}`,
        },
      },
    ]);
    w.webhook.failWith = 'WebhookRefused';
    expect(await errorNameOf(w.steps.run({ step: 'callWebhook', ...ids }))).toBe('WebhookRefused');
    await w.steps.run({ step: 'webhookFailed', ...ids, error: { Error: 'WebhookRefused' } });
    expect((await w.store.getReview(ids.reviewId))?.webhook).toBe('failed');
    expect(w.telemetry.total('webhookFailures')).toBe(1);
    expect(await reviewWorld().steps.run({ step: 'callWebhook', ...ids })).toEqual({ delivered: false });
  });

  it('an unknown step is UnknownStep; a malformed event InvalidStepInput; a missing review ReviewNotFound', async () => {
    const w = reviewWorld();
    expect(await errorNameOf(w.steps.run({ step: 'dance' }))).toBe('UnknownStep');
    expect(await errorNameOf(w.steps.run({ step: 'toString' }))).toBe('UnknownStep');
    expect(await errorNameOf(w.steps.run(null))).toBe('UnknownStep');
    expect(await errorNameOf(w.steps.run({ step: 'applyDecision', requestId: 'req_1' }))).toBe('InvalidStepInput');
    expect(await errorNameOf(w.steps.run({ step: 'applyDecision', reviewId: 42, requestId: 'r' }))).toBe(
      'InvalidStepInput',
    );
    expect(await errorNameOf(w.steps.run({ step: 'sweep', orphanGraceSeconds: 'soon' }))).toBe('InvalidStepInput');
    expect(
      await errorNameOf(w.steps.run({ step: 'applyDecision', reviewId: 'rev_000000000000_none', requestId: 'r' })),
    ).toBe('ReviewNotFound');
    expect(
      await errorNameOf(w.steps.run({ step: 'recordPending', reviewId: 'rev_000000000000_none', requestId: 'r' })),
    ).toBe('RequestNotFound');
  });
});
