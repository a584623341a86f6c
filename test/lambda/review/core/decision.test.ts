/** The decision use case on in-memory fakes: the first decision wins, retries answer alike, the workflow resumes once. */
import { ApiError } from '../../../../lambda/shared/errors';
import { reviewWorld } from './world';

const approve = { action: 'approve', reviewer: 'ann' };

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
}

describe('review decision (core, in memory)', () => {
  it('records the decision, resumes the workflow with it and answers 200', async () => {
    const w = reviewWorld();
    const { reviewId, requestId, taskToken } = await w.waiting();
    const r = await w.api.decide(reviewId, approve, 'arn:aws:iam::1:user/ann');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      reviewId,
      requestId,
      status: 'approved',
      decidedAt: new Date(w.clock.t).toISOString(),
      reviewer: 'ann',
      resumed: true,
    });
    expect(w.tasks.resumed).toEqual([{ token: taskToken, output: { action: 'approve', reviewer: 'ann' } }]);
    expect(await w.store.getReview(reviewId)).toMatchObject({
      status: 'approved',
      reviewerIdentity: 'arn:aws:iam::1:user/ann',
      modelAnswerAccepted: true,
    });
    expect(w.store.requestListing(requestId)).toBe('APPLY#pending');
  });

  it('the same decision sent again answers alike; a different one is review_decided', async () => {
    const w = reviewWorld();
    const { reviewId } = await w.waiting();
    const first = await w.api.decide(reviewId, approve);
    // The task was resumed: a second resume finds it gone, which still counts as resumed.
    const again = await w.api.decide(reviewId, approve);
    expect(again).toEqual(first);
    const e = await refusal(w.api.decide(reviewId, { action: 'reject', reviewer: 'bob' }));
    expect(e.code).toBe('review_decided');
    expect(e.message).toContain('approved by ann');
  });

  it('a resume that fails answers 202 with a retry hint, and the same decision sent again resumes', async () => {
    const w = reviewWorld();
    const { reviewId } = await w.waiting();
    w.tasks.failWith = Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    const r = await w.api.decide(reviewId, { action: 'edit', answer: 'better', reviewer: 'ann' });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ resumed: false, retry: expect.stringContaining('send the same decision again') });
    expect(w.telemetry.logs).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'workflow not resumed',
        fields: { reviewId, error: 'ThrottlingException' },
      }),
    );
    w.tasks.failWith = undefined;
    const again = await w.api.decide(reviewId, { action: 'edit', answer: 'better', reviewer: 'ann' });
    expect(again.status).toBe(200);
    expect(w.tasks.resumed).toHaveLength(1);
  });

  it('a task no longer waiting counts as resumed (the timeout step applies the decision) and logs the service error', async () => {
    const w = reviewWorld();
    const { reviewId, taskToken } = await w.waiting();
    w.tasks.waiting.delete(taskToken);
    expect((await w.api.decide(reviewId, approve)).status).toBe(200);
    expect(w.telemetry.logs).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        message: 'workflow not resumed',
        fields: { reviewId, error: 'TaskTimedOut' },
      }),
    );
  });

  it('a review whose workflow does not wait yet is review_not_ready (retry in 2 s); an expired one review_expired', async () => {
    const w = reviewWorld();
    const ids = w.handedOff();
    await w.steps.run({ step: 'recordPending', ...ids });
    const notReady = await refusal(w.api.decide(ids.reviewId, approve));
    expect([notReady.code, notReady.retryAfterSeconds]).toEqual(['review_not_ready', 2]);
    await w.steps.run({ step: 'applyTimeout', ...ids, error: { Error: 'States.Timeout' } });
    expect((await refusal(w.api.decide(ids.reviewId, approve))).code).toBe('review_expired');
  });

  it('an unknown or malformed review id is not_found; a decision the ledger cannot list is ledger_unavailable', async () => {
    const w = reviewWorld();
    expect((await refusal(w.api.decide('rev_nothing_here_at_all', approve))).code).toBe('not_found');
    expect((await refusal(w.api.decide('../etc', approve))).code).toBe('not_found');
    const { reviewId } = await w.waiting();
    w.store.failing.add('markToApply');
    const e = await refusal(w.api.decide(reviewId, approve));
    expect([e.code, e.retryAfterSeconds]).toEqual(['ledger_unavailable', 2]);
    expect((await w.store.getReview(reviewId))?.status).toBe('pending');
  });

  it('an edit too large to store with the review is payload_too_large; a bad body is invalid_request', async () => {
    const w = reviewWorld();
    const { reviewId } = await w.waiting();
    const big = await refusal(w.api.decide(reviewId, { action: 'edit', answer: 'é'.repeat(199_000), reviewer: 'ann' }));
    expect(big.code).toBe('payload_too_large');
    const bad = await refusal(w.api.decide(reviewId, { action: 'approve', answer: 'no', reviewer: 'ann' }));
    expect(bad.message).toBe('Invalid decision: answer: only allowed when action is "edit"');
  });
});
