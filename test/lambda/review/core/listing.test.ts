/** Listing, showing and exporting reviews on in-memory fakes: paging, cursors, the heartbeat, the JSONL export. */
import { ApiError } from '../../../../lambda/shared/errors';
import { reviewWorld } from './world';

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => (e instanceof ApiError ? e.code : String(e)),
  );
}

describe('review listing and export (core, in memory)', () => {
  it('lists pending reviews oldest first in pages whose cursor continues the listing', async () => {
    const w = reviewWorld();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await w.waiting()).reviewId);
      w.clock.advance(1000);
    }
    const first = (await w.api.list({ limit: '2' })).body as { reviews: Array<{ reviewId: string }>; next: string };
    expect(first.reviews.map((r) => r.reviewId)).toEqual(ids.slice(0, 2));
    const rest = (await w.api.list({ limit: '10', cursor: first.next })).body as {
      reviews: Array<{ reviewId: string; decision: unknown }>;
      next: string | null;
    };
    expect(rest.reviews.map((r) => r.reviewId)).toEqual(ids.slice(2));
    expect(rest.next).toBeNull();
    expect(rest.reviews[0]?.decision).toBeNull();
    // Never the task token.
    expect(JSON.stringify(rest)).not.toContain('token');
  });

  it('refuses a bad status, limit or cursor (also a cursor of the other listing) as invalid_request', async () => {
    const w = reviewWorld();
    await w.waiting();
    await w.waiting();
    const pending = (await w.api.list({ limit: '1' })).body as { next: string };
    expect(await codeOf(w.api.list({ status: 'open' }))).toBe('invalid_request');
    for (const limit of ['0', '101', '1.5', 'x']) expect(await codeOf(w.api.list({ limit }))).toBe('invalid_request');
    expect(await codeOf(w.api.list({ cursor: 'not-a-cursor' }))).toBe('invalid_request');
    expect(await codeOf(w.api.list({ status: 'decided', cursor: pending.next }))).toBe('invalid_request');
    expect(await codeOf(w.api.exportExamples({ cursor: pending.next }))).toBe('invalid_request');
  });

  it('showing a pending review sends the heartbeat; a heartbeat that fails is logged, not answered', async () => {
    const w = reviewWorld();
    const { reviewId, taskToken } = await w.waiting();
    expect((await w.api.get(reviewId)).body).toMatchObject({ reviewId, status: 'pending', proposedAnswer: 'answer 1' });
    expect(w.tasks.heartbeats).toEqual([taskToken]);
    w.tasks.waiting.delete(taskToken);
    expect((await w.api.get(reviewId)).status).toBe(200);
    expect(w.telemetry.logs).toContainEqual(
      expect.objectContaining({ message: 'review heartbeat not sent', fields: { reviewId, error: 'TaskTimedOut' } }),
    );
    expect(await codeOf(w.api.get('rev_unknown_review_id'))).toBe('not_found');
  });

  it('exports labelled examples as JSONL in decision order, skipping expired reviews', async () => {
    const w = reviewWorld();
    const a = await w.waiting();
    const b = await w.waiting();
    const c = await w.waiting();
    await w.api.decide(c.reviewId, { action: 'edit', answer: 'fixed', reviewer: 'ann' });
    w.clock.advance(1000);
    await w.steps.run({ step: 'applyTimeout', ...b, error: { Error: 'States.Timeout' } });
    w.clock.advance(1000);
    await w.api.decide(a.reviewId, { action: 'reject', reviewer: 'bob', note: 'wrong' });
    const page = await w.api.exportExamples({});
    expect(page.headers).toEqual({ 'content-type': 'application/x-ndjson' });
    const lines = (page.raw ?? '').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        reviewId: c.reviewId,
        label: 'edited',
        finalAnswer: 'fixed',
        modelAnswerAccepted: false,
      }),
      expect.objectContaining({ reviewId: a.reviewId, label: 'rejected', finalAnswer: null, reviewer: 'bob' }),
    ]);
    const decided = (await w.api.list({ status: 'decided' })).body as { reviews: Array<{ status: string }> };
    expect(decided.reviews.map((r) => r.status)).toEqual(['edited', 'expired', 'rejected']);
  });

  it('an export with nothing labelled is an empty body', async () => {
    const w = reviewWorld();
    expect((await w.api.exportExamples({ limit: '5' })).raw).toBe('');
  });
});
