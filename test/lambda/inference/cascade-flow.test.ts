/**
 * The cascade through the real service, SDK clients, Bedrock stand-in and dynalite: an unsure answer is
 * re-asked on the next stronger allowed tier, every attempt is recorded with its confidence and cost, a
 * still-unsure answer from the strongest tier is handed to review (202 `pending_review`), and budget or
 * deadline limits stop the cascade with the best answer so far and a reason.
 */
import { DEFAULT_TIER_MODELS } from '../../../lambda/shared/catalog';
import {
  DEPLOYMENT_MODELS,
  InferenceHarness,
  outcomeOf,
  REVIEW_MODELS,
  reviewThresholdFor,
} from '../../support/inference-harness';
import { checkLedger } from '../../support/ledger-invariants';

describe.each(DEPLOYMENT_MODELS)('%s model', (model) => {
  const h = new InferenceHarness(model);
  beforeAll(() => h.start());
  afterAll(() => h.stop());
  beforeEach(() => {
    h.bedrock.reset();
    h.reviews.length = 0;
  });

  const THRESHOLDS = { escalation: { confidenceThreshold: 0.6, reviewThreshold: reviewThresholdFor(model, 0.3) } };
  /** Whether this model's tenants can hand an answer to people (a pool cell has no review workflow yet). */
  const reviews = REVIEW_MODELS.includes(model);
  /** What a still-unsure final answer gets: 202 pending review, or (no review) 200 with the answer as it is. */
  const unsureStatus = reviews ? 202 : 200;
  /** Registers nothing: a case that does not apply to this model. */
  const skipped = (_name: string, _fn: () => Promise<void>) => undefined;
  const SURE = { kind: 'answer' as const, text: 'The invoice total is 1,250 EUR.', stopReason: 'end_turn' };
  /** Cut off by the token limit: the scorer caps its confidence far below the thresholds. */
  const CUT_OFF = { kind: 'answer' as const, text: 'The invoice total is', stopReason: 'max_tokens' };
  /** A refusal: the scorer caps it low. */
  const REFUSAL = { kind: 'answer' as const, text: "I'm sorry, but I can't help with that.", stopReason: 'end_turn' };
  const deadline = (ms = 20_000) => ({ deadlineMs: Date.now() + ms });
  const attemptsOf = (r: Record<string, unknown>) => r.attempts as Array<Record<string, unknown>>;

  describe('cascade', () => {
    it('re-asks stronger tiers while unsure and keeps every attempt; the first sure answer is returned', async () => {
      const t = await h.tenant(THRESHOLDS);
      h.bedrock.script(DEFAULT_TIER_MODELS.fast, CUT_OFF);
      h.bedrock.script(DEFAULT_TIER_MODELS.balanced, REFUSAL);
      h.bedrock.script(DEFAULT_TIER_MODELS.deep, SURE);
      const o = await outcomeOf(t.service.infer({ prompt: 'What is the invoice total?', tier: 'fast' }, deadline()));
      expect(o.status).toBe(200);
      expect(o.body).toMatchObject({ status: 'completed', tier: 'deep', escalated: true, output: SURE.text });
      const [r] = await t.records();
      const a = attemptsOf(r!);
      expect(a.map((x) => x.tier)).toEqual(['fast', 'balanced', 'deep']);
      expect(a.map((x) => x.outcome)).toEqual(['ok', 'ok', 'ok']);
      expect(a[0]!.confidence as number).toBeLessThan(0.6);
      expect(a[0]!.signals).toContain('stop:max_tokens');
      expect(a[1]!.confidence as number).toBeLessThan(0.6);
      expect(a[2]!.confidence as number).toBeGreaterThanOrEqual(0.6);
      expect(String(a[1]!.reason)).toMatch(/^escalation: cascade: confidence 0\.\d\d < 0\.60 on fast → balanced/);
      expect(r!.confidence).toBe(a[2]!.confidence);
      // The request pays for every call it made.
      expect(r!.costNanoUsd).toBeGreaterThan(0);
      checkLedger({
        records: [r!],
        counter: await t.counter(),
        outcomes: [o],
        harness: h,
        allowedStatuses: ['completed'],
      });
    });

    it('a scorer that fails never loses a paid call: every answer is recorded and charged, and the unchecked one escalates', async () => {
      const t = await h.tenant(THRESHOLDS, {
        confidence: (input) => {
          if (input.text === SURE.text) return { confidence: 0.9, signals: [] };
          throw new RangeError('Maximum call stack size exceeded');
        },
      });
      h.bedrock.script(DEFAULT_TIER_MODELS.fast, { kind: 'answer', text: '2 + 2 = 4' });
      h.bedrock.script(DEFAULT_TIER_MODELS.balanced, SURE);
      const o = await outcomeOf(t.service.infer({ prompt: 'What is 2 + 2?', tier: 'fast' }, deadline()));
      expect(o.status).toBe(200);
      const [r] = await t.records();
      const a = attemptsOf(r!);
      expect(a.map((x) => [x.tier, x.outcome, x.confidence])).toEqual([
        ['fast', 'ok', 0],
        ['balanced', 'ok', 0.9],
      ]);
      expect(a[0]!.signals).toEqual(['scoring:failed']);
      expect(a[0]!.outputTokens as number).toBeGreaterThan(0);
      checkLedger({
        records: [r!],
        counter: await t.counter(),
        outcomes: [o],
        harness: h,
        allowedStatuses: ['completed'],
      });
    });

    it('a sure first answer is not escalated', async () => {
      const t = await h.tenant(THRESHOLDS);
      h.bedrock.scriptDefault(SURE);
      const o = await outcomeOf(t.service.infer({ prompt: 'Invoice total?', tier: 'fast' }, deadline()));
      expect(o.body).toMatchObject({ status: 'completed', tier: 'fast', escalated: false });
      expect(h.bedrock.calls).toHaveLength(1);
    });

    (reviews ? it : skipped)(
      'still unsure after the strongest tier: 202 pending_review with a review id, the record pending, no answer released',
      async () => {
        const t = await h.tenant(THRESHOLDS);
        h.bedrock.scriptDefault(CUT_OFF);
        const o = await outcomeOf(t.service.infer({ prompt: 'What is the invoice total?', tier: 'fast' }, deadline()));
        expect(o.status).toBe(202);
        expect(o.body).toMatchObject({ status: 'pending_review', output: null, tier: 'deep' });
        expect(o.body.reviewId).toMatch(/^rev_/);
        expect(h.reviews).toHaveLength(1);
        expect(h.reviews[0]!.requestId).toBe(o.requestId);
        const [r] = await t.records();
        expect(r!.status).toBe('pending_review');
        expect(r!.reviewId).toBe(o.body.reviewId);
        expect(attemptsOf(r!)).toHaveLength(3);
        expect(String(r!.cascadeReason)).toMatch(/human review/);
        // GET /v1/requests/{id} shows the pending state; a repeat with the same key replays the 202.
        const view = (await t.service.getRequest(o.requestId!)).body as Record<string, unknown>;
        expect(view).toMatchObject({ status: 'pending_review', reviewId: o.body.reviewId, answeredBy: null });
        checkLedger({
          records: [r!],
          counter: await t.counter(),
          outcomes: [o],
          harness: h,
          allowedStatuses: ['pending_review'],
        });
      },
    );

    (reviews ? skipped : it)(
      'still unsure after the strongest tier without review: 200, the answer with its confidence, nothing handed to people',
      async () => {
        const t = await h.tenant(THRESHOLDS);
        h.bedrock.scriptDefault(CUT_OFF);
        const o = await outcomeOf(t.service.infer({ prompt: 'What is the invoice total?', tier: 'fast' }, deadline()));
        expect(o.status).toBe(200);
        expect(o.body).toMatchObject({ status: 'completed', tier: 'deep', escalated: true, output: CUT_OFF.text });
        expect(h.reviews).toHaveLength(0);
        const [r] = await t.records();
        expect(r!.status).toBe('completed');
        expect(r!.reviewId).toBeUndefined();
        expect(attemptsOf(r!)).toHaveLength(3);
        checkLedger({ records: [r!], counter: await t.counter(), outcomes: [o], harness: h });
      },
    );

    it('a tenant without deep stops at its strongest allowed tier', async () => {
      const t = await h.tenant({ ...THRESHOLDS, plan: 'basic' });
      h.bedrock.scriptDefault(CUT_OFF);
      const o = await outcomeOf(t.service.infer({ prompt: 'Total?', tier: 'fast' }, deadline()));
      expect(o.status).toBe(unsureStatus);
      expect(h.bedrock.calls.map((c) => c.modelId)).toEqual([DEFAULT_TIER_MODELS.fast, DEFAULT_TIER_MODELS.balanced]);
    });

    it('no time left for a stronger tier: the answer so far stands, with the reason in the record', async () => {
      const t = await h.tenant(THRESHOLDS);
      // Refusal scores above the review threshold? No: it is capped at 0.1, so the kept answer goes to review.
      h.bedrock.script(DEFAULT_TIER_MODELS.fast, { ...REFUSAL, latencyMs: 400 });
      const o = await outcomeOf(t.service.infer({ prompt: 'Total?', tier: 'fast' }, deadline(1_300)));
      expect(h.bedrock.calls).toHaveLength(1);
      const [r] = await t.records();
      expect(String(r!.cascadeReason)).toMatch(/escalation to balanced not possible: no time left before the deadline/);
      expect(o.status).toBe(unsureStatus);
    });

    it('the budget near its cap stops escalation: the unsure cheap answer is kept (or reviewed), never a pricier call', async () => {
      const t = await h.tenant({
        escalation: { confidenceThreshold: 0.6, reviewThreshold: reviewThresholdFor(model, 0.05) },
        monthlyBudgetUsd: 0.01,
        routing: { nearCapShare: 0 },
      });
      h.bedrock.scriptDefault(CUT_OFF);
      const o = await outcomeOf(t.service.infer({ prompt: 'Total?', tier: 'fast' }, deadline()));
      expect(o.status).toBe(200);
      expect(o.body).toMatchObject({ tier: 'fast', escalated: false });
      expect(h.bedrock.calls).toHaveLength(1);
      const [r] = await t.records();
      expect(String(r!.cascadeReason)).toMatch(/the budget is near its cap/);
    });
  });
});
