/**
 * Review flooding (README, "Review flooding"), through the real service, SDK clients, Bedrock stand-in and dynalite:
 * an answer cut short by the caller's own maxTokens is returned as truncated (not escalated, not reviewed);
 * the tenant's caps on open reviews and on reviews per hour refuse what is beyond them with a 429 of its own
 * (charged, recorded, not released, not queued); and the queue's counters never drift — not under retried
 * writes, failed writes, concurrency or replays.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { secondsToNextHour } from '../../../lambda/inference/core/review-admission';
import { DEFAULT_TIER_MODELS, getModel } from '../../../lambda/shared/catalog';
import { makeDynamoReviewQueue } from '../../../lambda/shared/dynamo-review-queue';
import { hourOf, openReviewsKey, reviewsStartedKey } from '../../../lambda/shared/review-schema';
import { PLAN_DEFAULTS } from '../../../lib/config/plan-defaults';
import { INTERNAL_ERROR } from '../../support/dynamo-fault-proxy';
import { InferenceHarness, inBatches, outcomeOf, REVIEW_MODELS } from '../../support/inference-harness';
import { checkLedger } from '../../support/ledger-invariants';

// Review caps need review: silo only until a pool cell has a review workflow (REVIEW_MODELS).
describe.each(REVIEW_MODELS)('%s model', (model) => {
  const h = new InferenceHarness(model);
  beforeAll(() => h.start());
  afterAll(() => h.stop());
  beforeEach(() => {
    h.bedrock.reset();
    h.proxy.clear();
    h.reviews.length = 0;
    h.clockOffsetMs = halfPastAnHour() - Date.now();
  });

  /**
   * The service's clock for these tests: the next half past an hour at least 3 hours before a month ends, so
   * every admission of a test falls in one hourly bucket and one month whenever the suite runs. Ahead of the
   * wall clock by less than a day (model call deadlines are wall-clock timers).
   */
  function halfPastAnHour(): number {
    const hour = 3_600_000;
    let t = Math.ceil((Date.now() - hour / 2) / hour) * hour + hour / 2;
    const d = new Date(t);
    if (Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - t < 3 * hour) {
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1, 10, 30);
    }
    return t;
  }

  const THRESHOLDS = { confidenceThreshold: 0.6, reviewThreshold: 0.3 };
  /** Stopped at the output limit: the scorer caps it far below the thresholds on every tier. */
  const CUT_OFF = { kind: 'answer' as const, text: 'The invoice total is', stopReason: 'max_tokens' };
  const deadline = () => ({ deadlineMs: now() + 20_000 });
  const now = () => Date.now() + h.clockOffsetMs;
  const ask = (t: Tenant, extra: Record<string, unknown> = {}) =>
    outcomeOf(t.service.infer({ prompt: 'What is the invoice total?', tier: 'fast', ...extra }, deadline()));

  type Tenant = Awaited<ReturnType<InferenceHarness['tenant']>>;

  async function item(t: Tenant, key: Record<string, string>): Promise<Record<string, unknown>> {
    const res = await h.dynalite.dynamo.send(
      new GetItemCommand({ TableName: t.tableName, Key: marshall(key), ConsistentRead: true }),
    );
    return res.Item ? unmarshall(res.Item) : {};
  }
  /** The open-reviews item: its count and the review ids it holds. */
  async function openQueue(t: Tenant) {
    const i = await item(t, openReviewsKey(t.scope));
    return {
      count: (i.count as number | undefined) ?? 0,
      ids: Object.keys(i)
        .filter((k) => k.startsWith('r_'))
        .map((k) => k.slice(2))
        .sort(),
      floodedAt: i.floodedAt as number | undefined,
    };
  }
  async function hourQueue(t: Tenant) {
    const i = await item(t, reviewsStartedKey(hourOf(now()), t.scope));
    return { count: (i.count as number | undefined) ?? 0, ids: Object.keys(i).filter((k) => k.startsWith('r_')) };
  }
  const pendingIds = async (t: Tenant) =>
    (await t.records())
      .filter((r) => r.status === 'pending_review')
      .map((r) => r.reviewId as string)
      .sort();

  describe('an answer cut short by the caller', () => {
    it("is returned 200 truncated when it stopped at the caller's maxTokens: one call, no escalation, no review", async () => {
      const t = await h.tenant({ escalation: THRESHOLDS });
      h.bedrock.scriptDefault(CUT_OFF);
      const o = await ask(t, { maxTokens: 1 });
      expect(o.status).toBe(200);
      expect(o.body).toMatchObject({ status: 'completed', truncated: true, output: CUT_OFF.text, tier: 'fast' });
      expect(h.bedrock.calls).toHaveLength(1);
      expect(h.bedrock.calls[0]!.body.inferenceConfig?.maxTokens).toBe(1);
      expect(h.reviews).toHaveLength(0);
      const [r] = await t.records();
      expect(r).toMatchObject({ status: 'completed', truncated: true });
      expect(String(r!.cascadeReason)).toMatch(/^truncated: the answer reached the caller's maxTokens \(1\)/);
      const view = (await t.service.getRequest(o.requestId!)).body as Record<string, unknown>;
      expect(view).toMatchObject({ truncated: true, output: CUT_OFF.text, answeredBy: { type: 'model' } });
      expect(await openQueue(t)).toMatchObject({ count: 0, ids: [] });
      checkLedger({
        records: [r!],
        counter: await t.counter(),
        outcomes: [o],
        harness: h,
        allowedStatuses: ['completed'],
      });
    });

    it("a stop at the platform's own limit keeps the cascade and the review: no maxTokens, or maxTokens at the tenant's most", async () => {
      const t = await h.tenant({ escalation: THRESHOLDS });
      h.bedrock.scriptDefault(CUT_OFF);
      const most = Math.min(
        PLAN_DEFAULTS.standard.limits.maxOutputTokens,
        getModel(DEFAULT_TIER_MODELS.fast).maxOutputTokens,
      );
      for (const extra of [{}, { maxTokens: most }]) {
        h.bedrock.reset();
        h.bedrock.scriptDefault(CUT_OFF);
        const o = await ask(t, extra);
        expect([o.status, o.body.status, o.body.truncated]).toEqual([202, 'pending_review', false]);
        expect(h.bedrock.calls.map((c) => c.modelId)).toEqual([
          DEFAULT_TIER_MODELS.fast,
          DEFAULT_TIER_MODELS.balanced,
          DEFAULT_TIER_MODELS.deep,
        ]);
      }
      expect(h.reviews).toHaveLength(2);
    });
  });

  describe('review caps', () => {
    it('open reviews: beyond maxOpenReviews the answer is 429 review_queue_full, charged and recorded, not queued; a repeat of its key answers the same', async () => {
      const t = await h.tenant({ escalation: { ...THRESHOLDS, maxOpenReviews: 2 } });
      h.bedrock.scriptDefault(CUT_OFF);
      const outcomes = [];
      for (let i = 0; i < 4; i++) outcomes.push(await ask(t, { idempotencyKey: `flood-${i}` }));
      expect(outcomes.map((o) => [o.status, o.code])).toEqual([
        [202, undefined],
        [202, undefined],
        [429, 'review_queue_full'],
        [429, 'review_queue_full'],
      ]);
      const refused = outcomes[2]!;
      expect(refused.retryAfter).toBe(300);
      expect(String(refused.body.message)).toContain('already has 2 answers waiting for review');
      expect(String(refused.body.message)).toContain('escalation.maxOpenReviews: 2');
      expect(h.reviews).toHaveLength(2);
      const records = await t.records();
      const rec = records.find((r) => r.requestId === refused.requestId)!;
      expect(rec).toMatchObject({ status: 'failed', error: { code: 'review_queue_full' } });
      expect(rec.costNanoUsd).toBeGreaterThan(0);
      expect(rec.output).toBeUndefined();
      expect(rec.reviewId).toBeUndefined();
      expect(rec.reviewInput).toBeUndefined();
      const q = await openQueue(t);
      expect(q.count).toBe(2);
      expect(q.ids).toEqual(await pendingIds(t));
      expect(q.floodedAt).toBeGreaterThan(0);
      checkLedger({
        records,
        counter: await t.counter(),
        outcomes,
        harness: h,
        allowedStatuses: ['pending_review', 'failed'],
      });

      // The caller's retry with the same key: the same refusal, no model call, nothing written.
      const calls = h.bedrock.calls.length;
      const again = await ask(t, { idempotencyKey: 'flood-2' });
      expect([again.status, again.code, again.requestId]).toEqual([429, 'review_queue_full', refused.requestId]);
      expect(h.bedrock.calls.length).toBe(calls);
      expect(await t.records()).toEqual(records);

      // The view says why it was not reviewed; no answer is shown.
      const view = (await t.service.getRequest(refused.requestId!)).body as Record<string, unknown>;
      expect(view).toMatchObject({ status: 'failed', output: null, error: { code: 'review_queue_full' } });
    });

    it('reviews per hour: beyond maxReviewsPerHour the answer is 429 review_rate_exceeded until the hour turns; the refused one holds no open place', async () => {
      const t = await h.tenant({ escalation: { ...THRESHOLDS, maxOpenReviews: 50, maxReviewsPerHour: 2 } });
      h.bedrock.scriptDefault(CUT_OFF);
      const outcomes = [];
      for (let i = 0; i < 3; i++) outcomes.push(await ask(t));
      expect(outcomes.map((o) => [o.status, o.code])).toEqual([
        [202, undefined],
        [202, undefined],
        [429, 'review_rate_exceeded'],
      ]);
      const wait = outcomes[2]!.retryAfter!;
      expect(Math.abs(wait - secondsToNextHour(now()))).toBeLessThanOrEqual(2);
      expect(wait).toBeGreaterThan(1_700);
      expect(String(outcomes[2]!.body.message)).toContain('escalation.maxReviewsPerHour');
      expect(await openQueue(t)).toMatchObject({ count: 2, ids: await pendingIds(t) });
      expect((await hourQueue(t)).count).toBe(2);
      // The next hour starts from zero.
      h.clockOffsetMs += 3_600_000;
      const next = await ask(t);
      expect(next.status).toBe(202);
      expect((await hourQueue(t)).count).toBe(1);
      expect((await openQueue(t)).count).toBe(3);
      checkLedger({
        records: await t.records(),
        counter: await t.counter(),
        outcomes: [...outcomes, next],
        harness: h,
        allowedStatuses: ['pending_review', 'failed'],
      });
    });

    it('many at once: exactly maxOpenReviews are admitted, the rest refused; the count equals the places held', async () => {
      const t = await h.tenant({ escalation: { ...THRESHOLDS, maxOpenReviews: 3 } }, { ownDynamoClient: true });
      h.bedrock.scriptDefault(CUT_OFF);
      const outcomes = await inBatches(12, 12, () => ask(t));
      expect(outcomes.filter((o) => o.status === 202)).toHaveLength(3);
      expect(outcomes.filter((o) => o.code === 'review_queue_full')).toHaveLength(9);
      expect(h.reviews).toHaveLength(3);
      const q = await openQueue(t);
      expect(q.count).toBe(3);
      expect(q.ids).toEqual(await pendingIds(t));
      checkLedger({
        records: await t.records(),
        counter: await t.counter(),
        outcomes,
        harness: h,
        allowedStatuses: ['pending_review', 'failed'],
      });
    });
  });

  describe('review queue counters do not drift', () => {
    it('an admission applied whose response was lost is recognised on the retry: one place, one review', async () => {
      const t = await h.tenant({ escalation: THRESHOLDS }, { ownDynamoClient: true });
      h.bedrock.scriptDefault(CUT_OFF);
      let faulted = 0;
      h.proxy.inject((c) =>
        c.operation === 'UpdateItem' && String(JSON.stringify(c.body.Key)).includes('REVQ#') && faulted++ < 1
          ? { ...INTERNAL_ERROR, afterApplying: true }
          : undefined,
      );
      const o = await ask(t);
      expect(faulted).toBeGreaterThan(0);
      expect(o.status).toBe(202);
      expect(await openQueue(t)).toMatchObject({ count: 1, ids: await pendingIds(t) });
      expect((await hourQueue(t)).count).toBe(1);
    });

    it('a request that cannot be recorded as pending gives its place back (open and hourly)', async () => {
      const t = await h.tenant({ escalation: THRESHOLDS }, { ownDynamoClient: true });
      h.bedrock.scriptDefault(CUT_OFF);
      h.proxy.inject((c) =>
        c.operation === 'UpdateItem' &&
        String(JSON.stringify(c.body.Key)).includes('REQ#') &&
        String(JSON.stringify(c.body.ExpressionAttributeValues)).includes('pending_review')
          ? INTERNAL_ERROR
          : undefined,
      );
      const o = await ask(t);
      h.proxy.clear();
      expect([o.status, o.code]).toEqual([503, 'ledger_unavailable']);
      expect(h.reviews).toHaveLength(0);
      expect(await openQueue(t)).toMatchObject({ count: 0, ids: [] });
      expect(await hourQueue(t)).toEqual({ count: 0, ids: [] });
    });

    it('a queue that cannot be reached refuses (502 review_failed, charged, not released) and keeps no place', async () => {
      const t = await h.tenant({ escalation: THRESHOLDS }, { ownDynamoClient: true });
      h.bedrock.scriptDefault(CUT_OFF);
      // The open place is taken; the hourly write fails past the SDK's retries.
      h.proxy.inject((c) =>
        c.operation === 'UpdateItem' && String(JSON.stringify(c.body.Key)).includes('REVQ#hour')
          ? INTERNAL_ERROR
          : undefined,
      );
      const o = await ask(t);
      h.proxy.clear();
      expect([o.status, o.code]).toEqual([502, 'review_failed']);
      expect(String(o.body.message)).toContain('the answer was not released');
      const [r] = await t.records();
      expect(r).toMatchObject({ status: 'failed', error: { code: 'review_failed' } });
      expect(r!.output).toBeUndefined();
      expect(await openQueue(t)).toMatchObject({ count: 0, ids: [] });
      expect(h.reviews).toHaveLength(0);
      checkLedger({
        records: [r!],
        counter: await t.counter(),
        outcomes: [o],
        harness: h,
        allowedStatuses: ['failed'],
      });
    });

    it('admitting or releasing the same review twice changes nothing', async () => {
      const t = await h.tenant({ escalation: THRESHOLDS });
      const queue = makeDynamoReviewQueue(DynamoDBDocumentClient.from(h.dynalite.dynamo), t.tableName, t.scope);
      const caps = { maxOpen: 2, maxPerHour: 2 };
      const at = now();
      const slot = { reviewId: 'rev_aaaaaaaaaaaaaaaaaaaaaaaaaa_0000000001', requestId: 'req_a', at };
      expect(await queue.admit(slot, caps)).toEqual({ result: 'admitted' });
      expect(await queue.admit(slot, caps)).toEqual({ result: 'admitted' });
      expect(await openQueue(t)).toMatchObject({ count: 1 });
      const other = { reviewId: 'rev_bbbbbbbbbbbbbbbbbbbbbbbbbb_0000000002', requestId: 'req_b', at };
      expect(await queue.admit(other, caps)).toEqual({ result: 'admitted' });
      // Full: a third is refused, the two admitted are admitted again (a retried hand-off).
      expect(
        await queue.admit({ reviewId: 'rev_cccccccccccccccccccccccccc_0000000003', requestId: 'req_c', at }, caps),
      ).toEqual({ result: 'queue_full', open: 2 });
      expect(await queue.admit(other, caps)).toEqual({ result: 'admitted' });
      await queue.release(slot.reviewId);
      await queue.release(slot.reviewId);
      expect(await openQueue(t)).toMatchObject({ count: 1, ids: [other.reviewId] });
      expect((await queue.state()).count).toBe(1);
    });
  });
});
