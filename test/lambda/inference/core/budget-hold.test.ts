/** The budget step: worst-case cost, the BudgetHold (reserve, top-up, settle, release) and the first reservation. */
import {
  BudgetHold,
  budgetLimitsOf,
  reserveFirstCall,
  worstCaseNanoUsd,
} from '../../../../lambda/inference/core/budget';
import { callExtrasOf } from '../../../../lambda/inference/core/guardrail';
import { resolveRequest } from '../../../../lambda/inference/core/resolve';
import { costNanoUsd, DEFAULT_TIER_MODELS, usdToNano } from '../../../../lambda/shared/catalog';
import { DomainError } from '../../../../lambda/shared/errors';
import { FakeClock, FakeLedger, fakeTenant } from '../../../support/inference-fakes';

const MONTH = '2026-06';
const owner = { requestId: 'req_budget0000001', runId: 'run1', month: MONTH };

function hold(budgetUsd = 1, ledger = new FakeLedger()) {
  const limits = budgetLimitsOf({
    monthlyBudgetUsd: budgetUsd,
    routing: { ...fakeTenant().routing, nearCapShare: 0.5 },
  });
  return { ledger, limits, hold: new BudgetHold(ledger, new FakeClock(), limits, owner) };
}

describe('worstCaseNanoUsd', () => {
  it('counts every prompt byte and the message framing as input tokens, plus maxTokens of output', () => {
    const resolved = { promptBytes: 100, messages: [{ role: 'user' as const, content: 'x'.repeat(100) }] };
    const model = DEFAULT_TIER_MODELS.fast;
    expect(worstCaseNanoUsd(model, resolved, 50)).toBe(
      costNanoUsd(model, { inputTokens: 100 + 16 * 2, outputTokens: 50 }),
    );
  });

  it('adds the preamble and the guardrail policies when the tenant has them', () => {
    const resolved = { promptBytes: 10, messages: [{ role: 'user' as const, content: 'x' }] };
    const model = DEFAULT_TIER_MODELS.fast;
    const extras = callExtrasOf({
      preamble: { tenant: 'Be brief.' },
      guardrail: { source: 'plan', policies: ['content'] },
    });
    expect(worstCaseNanoUsd(model, resolved, 50, extras)).toBeGreaterThan(worstCaseNanoUsd(model, resolved, 50));
  });
});

describe('BudgetHold', () => {
  it('reserves, tops up only what the unspent hold lacks, and settles its reservations exactly once', async () => {
    const { hold: h, ledger } = hold();
    expect(await h.reserve(1000, 'cap')).toBe(true);
    h.spend(400);
    expect(await h.topUp(500, 'cap')).toBe(true); // 600 unspent: no new reservation
    expect(h.reservationIds).toHaveLength(1);
    expect(await h.topUp(900, 'cap')).toBe(true); // 300 more
    expect(h.reservationIds).toEqual([`${owner.requestId}.run1.1`, `${owner.requestId}.run1.2`]);
    expect(h.held).toBe(1300);
    const byTier = { fast: { requests: 1, calls: 1, inputTokens: 1, outputTokens: 1, costNanoUsd: 400 } };
    expect(await h.settle({ requests: 1, byTier })).toEqual({ result: 'settled', costNanoUsd: 400 });
    expect(await h.settle({ requests: 1, byTier })).toEqual({ result: 'already_settled' });
    expect(await ledger.getUsage(MONTH)).toMatchObject({
      committedNanoUsd: 400,
      costNanoUsd: 400,
      openReservations: [],
    });
  });

  it('refuses a reservation the budget cannot hold, and one above the near-cap line for Switchboard choices', async () => {
    const { hold: h, limits } = hold(1);
    expect(await h.reserve(limits.capNano + 1, 'cap')).toBe(false);
    expect(await h.reserve(limits.nearCapNano + 1, 'cap')).toBe(true);
    expect(await h.topUp(limits.nearCapNano + 2, 'near-cap')).toBe(false);
    expect(h.held).toBe(limits.nearCapNano + 1);
  });

  it('releases everything it holds without charging', async () => {
    const { hold: h, ledger } = hold();
    await h.reserve(1000, 'cap');
    await h.release();
    expect(await ledger.getUsage(MONTH)).toMatchObject({ committedNanoUsd: 0, requests: 0, openReservations: [] });
  });

  it('releases a reservation whose write failed (it may have landed), and never charges it', async () => {
    const { hold: h, ledger } = hold();
    ledger.failWith('reserve');
    await expect(h.reserve(1000, 'cap')).rejects.toThrow('down');
    // As if DynamoDB had applied the write whose response was lost.
    await ledger.reserve(
      MONTH,
      { id: `${owner.requestId}.run1.1`, requestId: owner.requestId, nanoUsd: 1000, at: 0 },
      1e12,
    );
    await h.releaseUncertain();
    expect(await ledger.getUsage(MONTH)).toMatchObject({ committedNanoUsd: 0, openReservations: [] });
  });
});

describe('reserveFirstCall', () => {
  const tenant = fakeTenant({ routing: { ...fakeTenant().routing, nearCapShare: 0.5 }, defaultTier: 'balanced' });

  it('drops an auto request to the cheapest tier near the cap, and says so in the route reason', async () => {
    const ledger = new FakeLedger();
    const limits = budgetLimitsOf(tenant);
    // The month is above the near-cap line already.
    await ledger.reserve(MONTH, { id: 'other.r.1', requestId: 'other', nanoUsd: limits.nearCapNano + 1, at: 0 }, 1e15);
    const h = new BudgetHold(ledger, new FakeClock(), limits, owner);
    const resolved = resolveRequest(tenant, { prompt: 'hi' });
    expect(resolved.tier).toBe('balanced');
    const r = await reserveFirstCall(h, ledger, tenant, resolved, callExtrasOf(tenant), () => 0);
    expect(r.budgetDowngrade).toBe(true);
    expect(r.resolved.tier).toBe('fast');
    expect(r.resolved.routeReason).toMatch(/budget: month spend is at or above 50% of \$10 → cheapest tier fast/);
  });

  it('keeps an explicit tier near the cap (only the cap applies to it)', async () => {
    const ledger = new FakeLedger();
    const limits = budgetLimitsOf(tenant);
    await ledger.reserve(MONTH, { id: 'other.r.1', requestId: 'other', nanoUsd: limits.nearCapNano + 1, at: 0 }, 1e15);
    const h = new BudgetHold(ledger, new FakeClock(), limits, owner);
    const r = await reserveFirstCall(
      h,
      ledger,
      tenant,
      resolveRequest(tenant, { prompt: 'hi', tier: 'balanced' }),
      callExtrasOf(tenant),
      () => 0,
    );
    expect(r).toMatchObject({ budgetDowngrade: false, resolved: { tier: 'balanced' } });
  });

  it('throws budget_exceeded (Retry-After to the next month) when not even the cheapest tier fits', async () => {
    const ledger = new FakeLedger();
    const limits = budgetLimitsOf(tenant);
    await ledger.reserve(MONTH, { id: 'other.r.1', requestId: 'other', nanoUsd: usdToNano(10), at: 0 }, 1e15);
    const h = new BudgetHold(ledger, new FakeClock(), limits, owner);
    const now = Date.UTC(2026, 5, 30, 23, 59, 0);
    const e = await reserveFirstCall(
      h,
      ledger,
      tenant,
      resolveRequest(tenant, { prompt: 'hi' }),
      callExtrasOf(tenant),
      () => now,
    ).catch((x) => x);
    expect(e).toBeInstanceOf(DomainError);
    expect(e).toMatchObject({ code: 'budget_exceeded', retryAfterSeconds: 60 });
    expect(e.message).toMatch(/committed \$10 incl\. running requests/);
  });
});
