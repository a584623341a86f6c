/** The model chain: a call with its deadline and top-up, a tier's fallbacks, the neighbouring tier. */
import { BudgetHold, budgetLimitsOf } from '../../../../lambda/inference/core/budget';
import { NO_CALL_EXTRAS } from '../../../../lambda/inference/core/guardrail';
import { callDeadline, ModelChain } from '../../../../lambda/inference/core/model-chain';
import { resolveRequest } from '../../../../lambda/inference/core/resolve';
import { DEFAULT_TIER_MODELS } from '../../../../lambda/shared/catalog';
import type { TenantRuntimeConfig } from '../../../../lambda/shared/tenant-runtime';
import { FakeClock, FakeLedger, FakeModels, fakeTenant } from '../../../support/inference-fakes';

const FAST = DEFAULT_TIER_MODELS.fast;
const LITE = 'us.amazon.nova-lite-v1:0';
const BALANCED = DEFAULT_TIER_MODELS.balanced;

function chain(
  opts: { tenant?: TenantRuntimeConfig; deadlineIn?: number; budgetUsd?: number; confidence?: () => number } = {},
) {
  const tenant = opts.tenant ?? fakeTenant({ tierFallbacks: { fast: [LITE], balanced: [] } });
  const clock = new FakeClock();
  const ledger = new FakeLedger();
  const models = new FakeModels({}, clock);
  const limits = budgetLimitsOf({ ...tenant, monthlyBudgetUsd: opts.budgetUsd ?? tenant.monthlyBudgetUsd });
  const hold = new BudgetHold(ledger, clock, limits, { requestId: 'req_chain00000001', runId: 'r', month: '2026-06' });
  const c = new ModelChain({
    invoker: models,
    clock,
    confidence: () => ({ confidence: opts.confidence?.() ?? 0.9, signals: ['s'] }),
    tenant,
    extras: NO_CALL_EXTRAS,
    resolved: resolveRequest(tenant, { prompt: 'hi', tier: 'fast' }),
    hold,
    deadlineMs: clock.now() + (opts.deadlineIn ?? 20_000),
  });
  return { c, clock, ledger, models, hold };
}

describe('callDeadline', () => {
  it('gives a call 60% of the time left, or all but 10 s when that is more (the documented 16 s / 10 s split)', () => {
    expect(callDeadline(0, 26_000)).toBe(16_000);
    expect(callDeadline(0, 10_000)).toBe(6_000);
    expect(callDeadline(1000, 41_000)).toBe(31_000);
  });
});

describe('ModelChain', () => {
  it('calls the tier model within its time box, tops up the budget, records the attempt with its confidence', async () => {
    const { c, models, hold, clock } = chain({ deadlineIn: 26_000 });
    const start = clock.now();
    const r = await c.call('fast', FAST, 'route', 'cap');
    expect(r).toMatchObject({ kind: 'ok', tier: 'fast', modelId: FAST, confidence: 0.9 });
    expect(models.calls[0]!.deadlineMs).toBe(start + 16_000);
    expect(hold.reservationIds).toHaveLength(1);
    expect(c.attempts).toEqual([
      expect.objectContaining({ outcome: 'ok', reason: 'route', confidence: 0.9, signals: ['s'] }),
    ]);
  });

  it('skips a call with less than a second left, and one the budget cannot hold', async () => {
    expect(await chain({ deadlineIn: 999 }).c.call('fast', FAST, 'route', 'cap')).toEqual({
      kind: 'skipped',
      why: 'deadline',
    });
    expect(await chain({ budgetUsd: 0 }).c.call('fast', FAST, 'route', 'cap')).toEqual({
      kind: 'skipped',
      why: 'budget',
    });
    const down = chain();
    down.ledger.failWith('reserve');
    expect(await down.c.call('fast', FAST, 'route', 'cap')).toEqual({ kind: 'skipped', why: 'ledger' });
  });

  it("tries the tier's fallbacks after a transient failure, naming what failed", async () => {
    const { c, models } = chain();
    models.script(FAST, 'throttled');
    const r = await c.tier('fast', 'route', 'cap');
    expect(r).toMatchObject({ kind: 'ok', modelId: LITE });
    expect(c.attempts.map((a) => [a.modelId, a.outcome, a.reason])).toEqual([
      [FAST, 'throttled', 'route'],
      [LITE, 'ok', 'fallback: us.amazon.nova-micro-v1:0 failed (FakeThrottled)'],
    ]);
  });

  it('stops at a failure that is not transient (the request itself was refused)', async () => {
    const { c, models } = chain();
    models.script(FAST, 'error');
    expect(await c.first(['fast', 'balanced'])).toMatchObject({ kind: 'failed' });
    expect(models.calls).toHaveLength(1);
  });

  it('goes to the neighbouring tier (stronger first) when every model of the routed tier failed', async () => {
    const { c, models } = chain();
    models.script(FAST, 'unavailable').script(LITE, 'timeout');
    const r = await c.first(['fast', 'balanced']);
    expect(r).toMatchObject({ kind: 'ok', tier: 'balanced', modelId: BALANCED });
    expect(c.attempts.at(-1)?.reason).toBe('fallback: every fast model failed');
    expect(c.failures.map((f) => f.kind)).toEqual(['unavailable', 'timeout']);
  });

  it('scores 0 when the scorer fails, so the answer goes up the cascade', async () => {
    const { c } = chain({
      confidence: () => {
        throw new Error('scorer broke');
      },
    });
    expect(await c.call('fast', FAST, 'route', 'cap')).toMatchObject({ kind: 'ok', confidence: 0 });
    expect(c.attempts[0]).toMatchObject({ signals: ['scoring:failed'] });
  });
});
