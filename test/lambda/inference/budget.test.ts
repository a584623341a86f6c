/**
 * Budgets on dynalite with the real SDK: reserve the worst case before a call (one conditional update),
 * settle to the actual cost after it, release on failure. Concurrent requests can never take the settled
 * month total over the cap; near the cap `auto` requests go to the cheapest tier; at the cap a request gets
 * 429 `budget_exceeded`, writes nothing and calls no model; `GET /v1/usage` adds up exactly to the records.
 */

import { worstCaseNanoUsd } from '../../../lambda/inference/core/budget';
import { callExtrasOf } from '../../../lambda/inference/core/guardrail';
import { DEFAULT_TIER_MODELS, nanoToUsd, usdToNano } from '../../../lambda/shared/catalog';
import { INTERNAL_ERROR, touchesUsageCounter } from '../../support/dynamo-fault-proxy';
import {
  DEPLOYMENT_MODELS,
  InferenceHarness,
  inBatches,
  outcomeOf,
  runtimeConfigOf,
} from '../../support/inference-harness';
import { checkLedger } from '../../support/ledger-invariants';

describe.each(DEPLOYMENT_MODELS)('%s model', (model) => {
  const h = new InferenceHarness(model);
  beforeAll(() => h.start());
  afterAll(() => h.stop());
  beforeEach(() => {
    h.bedrock.reset();
    h.proxy.clear();
    h.clockOffsetMs = 0;
  });

  const noCascade = { escalation: { confidenceThreshold: 0, reviewThreshold: 0 } };
  const PROMPT = 'Draft a two-sentence status update for the migration project.';
  const deadline = () => ({ deadlineMs: Date.now() + 20_000 });
  /**
   * The worst case of one deep request of this test (every prompt character a token, plus maxTokens, plus the
   * guardrail's text units of the standard plan's guardrail).
   */
  const deepWorst = worstCaseNanoUsd(
    DEFAULT_TIER_MODELS.deep,
    { promptBytes: Buffer.byteLength(PROMPT), messages: [{}] as never },
    200,
    callExtrasOf(runtimeConfigOf({})),
  );

  describe('monthly budget', () => {
    it('concurrent requests never push the settled month total over the cap; the rest get 429 budget_exceeded and leave no trace', async () => {
      const capUsd = 0.05;
      const t = await h.tenant({ ...noCascade, monthlyBudgetUsd: capUsd });
      h.bedrock.scriptDefault({
        kind: 'answer',
        text: 'Status: on track.',
        inputTokens: 30,
        outputTokens: 150,
        latencyMs: 15,
      });
      const out = await inBatches(80, 40, () =>
        outcomeOf(t.service.infer({ prompt: PROMPT, tier: 'deep', maxTokens: 200 }, deadline())),
      );
      const accepted = out.filter((o) => o.status === 200);
      const refused = out.filter((o) => o.status === 429);
      expect(accepted.length + refused.length).toBe(out.length);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) {
        expect(r.code).toBe('budget_exceeded');
        expect(String(r.body.message)).toMatch(/Monthly budget of \$0\.05/);
        expect(r.retryAfter).toBeGreaterThan(0);
      }
      // Exactly one model call per accepted request; none for refused ones.
      expect(h.bedrock.calls).toHaveLength(accepted.length);
      const records = await t.records();
      const counter = await t.counter();
      checkLedger({ records, counter, outcomes: out, harness: h, allowedStatuses: ['completed'] });
      const cap = usdToNano(capUsd);
      expect(counter.costNanoUsd as number).toBeLessThanOrEqual(cap);

      // The guard is not wasteful: once no request is running, requests are accepted until less than one
      // request's worst case is left.
      for (;;) {
        const o = await outcomeOf(t.service.infer({ prompt: PROMPT, tier: 'deep', maxTokens: 200 }, deadline()));
        if (o.status === 429) break;
        expect(o.status).toBe(200);
      }
      const settled = (await t.counter()).costNanoUsd as number;
      expect(settled).toBeLessThanOrEqual(cap);
      expect(cap - settled).toBeLessThan(deepWorst);
    });

    it('a reservation that brings the committed spend exactly to the budget is accepted: a budget of two worst cases runs two requests at once', async () => {
      const t = await h.tenant({ ...noCascade, monthlyBudgetUsd: nanoToUsd(2 * deepWorst) });
      expect(usdToNano(t.config.monthlyBudgetUsd)).toBe(2 * deepWorst);
      // Both requests hold their worst case while the model answers: the second reservation ends exactly at the cap.
      h.bedrock.scriptDefault({ kind: 'answer', text: 'Status: on track.', inputTokens: 30, latencyMs: 300 });
      const out = await Promise.all(
        [0, 1].map(() => outcomeOf(t.service.infer({ prompt: PROMPT, tier: 'deep', maxTokens: 200 }, deadline()))),
      );
      expect(out.map((o) => [o.status, o.code])).toEqual([
        [200, undefined],
        [200, undefined],
      ]);
      expect(h.bedrock.calls).toHaveLength(2);
      checkLedger({
        records: await t.records(),
        counter: await t.counter(),
        outcomes: out,
        harness: h,
        allowedStatuses: ['completed'],
      });
    });

    it('near the cap, auto requests go to the cheapest allowed tier and say why; explicit tiers are honoured while the cap allows', async () => {
      const t = await h.tenant({
        ...noCascade,
        // Room for the near-cap half in deep requests, the rest in fast ones (each also pays its guardrail text
        // units), and one explicit deep request's worst case.
        monthlyBudgetUsd: 0.03,
        // Route every auto request to deep while the budget is healthy.
        routing: { deepThreshold: 0, balancedThreshold: 0, nearCapShare: 0.5 },
      });
      h.bedrock.scriptDefault({ kind: 'answer', text: 'Done.', inputTokens: 30, outputTokens: 150 });
      const tiers: string[] = [];
      const reasons: string[] = [];
      const outcomes: Array<{ status: number; requestId?: string }> = [];
      for (let i = 0; i < 12; i++) {
        const o = await outcomeOf(t.service.infer({ prompt: PROMPT, maxTokens: 200 }, deadline()));
        outcomes.push(o);
        expect(o.status).toBe(200);
        tiers.push(o.body.tier as string);
        reasons.push(o.body.routeReason as string);
      }
      const firstFast = tiers.indexOf('fast');
      expect(firstFast).toBeGreaterThan(0);
      expect(tiers.slice(0, firstFast).every((x) => x === 'deep')).toBe(true);
      expect(tiers.slice(firstFast).every((x) => x === 'fast')).toBe(true);
      expect(reasons[firstFast]).toMatch(/budget: month spend is at or above 50% of \$0\.03 → cheapest tier fast/);
      // The downgrade happened at the line: the settled total before it was at or above half the budget
      // minus one deep request's worst case.
      const usage = (await t.service.getUsage()).body as {
        costUsd: number;
        byTier: Record<string, { costUsd: number }>;
      };
      expect(usage.costUsd).toBeGreaterThanOrEqual(0.015 - nanoToUsd(deepWorst));
      // An explicit deep request is still served while its worst case fits under the cap.
      const explicit = await outcomeOf(t.service.infer({ prompt: PROMPT, tier: 'deep', maxTokens: 200 }, deadline()));
      expect(explicit.status).toBe(200);
      expect(explicit.body.tier).toBe('deep');
      checkLedger({
        records: await t.records(),
        counter: await t.counter(),
        outcomes: [...outcomes, explicit],
        harness: h,
        allowedStatuses: ['completed'],
      });
    });

    it('at the cap: 429 budget_exceeded even on the cheapest tier, no model call, no record, counter unchanged', async () => {
      const t = await h.tenant({ ...noCascade, monthlyBudgetUsd: 0 });
      const before = await t.counter();
      const o = await outcomeOf(t.service.infer({ prompt: PROMPT }, deadline()));
      expect(o.status).toBe(429);
      expect(o.code).toBe('budget_exceeded');
      expect(String(o.body.message)).toMatch(/raise monthlyBudgetUsd/);
      expect(h.bedrock.calls).toHaveLength(0);
      expect(await t.records()).toEqual([]);
      expect(await t.counter()).toEqual(before);
    });

    it('GET /v1/usage reports month to date by tier, adding up exactly to the records', async () => {
      const t = await h.tenant({ ...noCascade, monthlyBudgetUsd: 100 });
      h.bedrock.scriptDefault({ kind: 'answer', text: 'Answer with a few words in it.' });
      const tiers = ['fast', 'balanced', 'deep', 'fast', 'fast', 'deep'] as const;
      for (const tier of tiers) {
        expect((await outcomeOf(t.service.infer({ prompt: PROMPT, tier }, deadline()))).status).toBe(200);
      }
      const usage = (await t.service.getUsage()).body as {
        requests: number;
        costUsd: number;
        committedUsd: number;
        runningRequests: number;
        byTier: Record<string, { requests: number; calls: number; costUsd: number }>;
      };
      const records = await t.records();
      expect(usage.requests).toBe(tiers.length);
      expect(usage.runningRequests).toBe(0);
      expect(usage.committedUsd).toBe(usage.costUsd);
      for (const tier of ['fast', 'balanced', 'deep']) {
        const mine = records.filter((r) => r.tier === tier);
        expect(usage.byTier[tier]!.requests).toBe(mine.length);
        expect(usdToNano(usage.byTier[tier]!.costUsd)).toBe(mine.reduce((n, r) => n + (r.costNanoUsd as number), 0));
      }
      expect(usdToNano(usage.costUsd)).toBe(records.reduce((n, r) => n + (r.costNanoUsd as number), 0));
    });

    it("the reconciler settles all of a run's reservations together, from the record, exactly once", async () => {
      const t = await h.tenant({ monthlyBudgetUsd: 100, escalation: { confidenceThreshold: 0.6, reviewThreshold: 0 } });
      // The fast answer is cut off (low confidence → escalation); while it runs, four minutes pass, so the
      // escalation's top-up reservation is minutes younger than the first one.
      h.bedrock.script(DEFAULT_TIER_MODELS.fast, () => {
        h.clockOffsetMs = 4 * 60_000;
        return { kind: 'answer', text: 'The migration is', stopReason: 'max_tokens' };
      });
      h.bedrock.script(DEFAULT_TIER_MODELS.balanced, { kind: 'answer', text: 'The migration is on track for June.' });
      // DynamoDB is down while the request settles: both reservations stay open.
      h.proxy.inject((c) =>
        c.operation === 'UpdateItem' && touchesUsageCounter(c) && String(c.body.UpdateExpression).includes('REMOVE')
          ? INTERNAL_ERROR
          : undefined,
      );
      // (The deadline is on the service's clock, which the four minutes move too.)
      const out = await outcomeOf(
        t.service.infer({ prompt: PROMPT, tier: 'fast' }, { deadlineMs: Date.now() + 300_000 }),
      );
      h.proxy.clear();
      expect(out.status).toBe(200);
      expect(out.body.escalated).toBe(true);
      const [record] = await t.records();
      expect((record!.attempts as unknown[]).length).toBe(2);
      expect(Object.keys(await t.counter()).filter((k) => k.startsWith('rsv_'))).toHaveLength(2);

      const month = () => new Date(Date.now() + h.clockOffsetMs).toISOString().slice(0, 7);
      // The first reservation is stale, the top-up is not: the run might still be alive, so nothing moves.
      h.clockOffsetMs = 6 * 60_000;
      expect(await t.service.reconcile(month())).toEqual({ settled: 0, released: 0 });
      expect(Object.keys(await t.counter()).filter((k) => k.startsWith('rsv_'))).toHaveLength(2);
      // Both stale: settled together, charged once; a second pass changes nothing.
      h.clockOffsetMs = 10 * 60_000;
      expect(await t.service.reconcile(month())).toEqual({ settled: 1, released: 0 });
      expect(await t.service.reconcile(month())).toEqual({ settled: 0, released: 0 });
      checkLedger({ records: [record!], counter: await t.counter(), outcomes: [out], harness: h });
    });

    it('the scheduled reconciler also closes last month: a run that died before the month turned is settled there', async () => {
      const t = await h.tenant({ ...noCascade, monthlyBudgetUsd: 100 });
      h.bedrock.scriptDefault({ kind: 'answer', text: 'Done before midnight.' });
      h.proxy.inject((c) =>
        c.operation === 'UpdateItem' && touchesUsageCounter(c) && String(c.body.UpdateExpression).includes('REMOVE')
          ? INTERNAL_ERROR
          : undefined,
      );
      const out = await outcomeOf(t.service.infer({ prompt: PROMPT, tier: 'fast' }, deadline()));
      h.proxy.clear();
      expect(out.status).toBe(200);
      const month = new Date().toISOString().slice(0, 7);
      expect(Object.keys(await t.counter()).filter((k) => k.startsWith('rsv_'))).toHaveLength(1);
      // Ten minutes into the next month: GET /v1/usage only looks at the new month; the schedule closes both.
      const now = new Date();
      h.clockOffsetMs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1, 0, 10) - now.getTime();
      const next = new Date(Date.now() + h.clockOffsetMs).toISOString().slice(0, 7);
      expect(await t.service.reconcileRecent()).toEqual({
        [month]: { settled: 1, released: 0 },
        [next]: { settled: 0, released: 0 },
      });
      checkLedger({ records: await t.records(), counter: await t.counter(), outcomes: [out], harness: h });
    });

    it('a reservation whose write errored but landed, left open after the run settled, is released by the reconciler, never charged again', async () => {
      const t = await h.tenant({ monthlyBudgetUsd: 100, escalation: { confidenceThreshold: 0.6, reviewThreshold: 0 } });
      h.bedrock.script(DEFAULT_TIER_MODELS.fast, {
        kind: 'answer',
        text: 'The migration is',
        stopReason: 'max_tokens',
      });
      h.bedrock.scriptDefault({ kind: 'answer', text: 'The migration is on track for June.' });
      const rsv2 = (c: { body: Record<string, unknown> }) =>
        Object.values((c.body.ExpressionAttributeNames as Record<string, string>) ?? {}).some((n) =>
          /^rsv_.*\.2$/.test(n),
        );
      const seen = new Set<string>();
      h.proxy.inject((c) => {
        if (c.operation !== 'UpdateItem' || !touchesUsageCounter(c) || !rsv2(c)) return undefined;
        // The escalation's top-up (.2) is applied but reported failed on every attempt; releasing it fails too.
        if (String(c.body.UpdateExpression).includes('REMOVE')) return INTERNAL_ERROR;
        const sig = JSON.stringify(c.body);
        if (seen.has(sig)) return INTERNAL_ERROR;
        seen.add(sig);
        return { ...INTERNAL_ERROR, afterApplying: true };
      });
      const out = await outcomeOf(t.service.infer({ prompt: PROMPT, tier: 'fast' }, deadline()));
      h.proxy.clear();
      expect(out.status).toBe(200);
      const [record] = await t.records();
      // The run settled its own reservations; only the uncertain one is still open.
      expect(Object.keys(await t.counter()).filter((k) => k.startsWith('rsv_'))).toEqual([
        expect.stringMatching(/\.2$/),
      ]);
      h.clockOffsetMs = 6 * 60_000;
      const month = new Date(Date.now() + h.clockOffsetMs).toISOString().slice(0, 7);
      expect(await t.service.reconcile(month)).toEqual({ settled: 0, released: 1 });
      checkLedger({ records: [record!], counter: await t.counter(), outcomes: [out], harness: h });
    });
  });
});
