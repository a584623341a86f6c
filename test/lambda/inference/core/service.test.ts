/**
 * The inference pipeline on in-memory ports (test/support/inference-fakes.ts): resolve → reserve → accept →
 * answer → commit → hand off, with the outcome it returns and the errors it throws.
 */
import { makeInferenceService } from '../../../../lambda/inference/core/service';
import { DEFAULT_TIER_MODELS } from '../../../../lambda/shared/catalog';
import { DomainError } from '../../../../lambda/shared/errors';
import { monthOf } from '../../../../lambda/shared/ledger-schema';
import { fakePorts, fakeTenant } from '../../../support/inference-fakes';

const FAST = DEFAULT_TIER_MODELS.fast;
const BALANCED = DEFAULT_TIER_MODELS.balanced;

function setup(opts: Parameters<typeof fakePorts>[0] = {}) {
  const ports = fakePorts(opts);
  const service = makeInferenceService(ports.deps);
  const deadline = () => ({ deadlineMs: ports.clock.now() + 20_000 });
  return { ...ports, service, deadline, month: monthOf(ports.clock.now()) };
}

async function thrown(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError');
}

describe('infer: the pipeline on fakes', () => {
  it('answers, records the outcome and settles the month counter once', async () => {
    const s = setup();
    const tenant = fakeTenant();
    const out = await s.service.infer(tenant, { prompt: 'hello' }, s.deadline());
    expect(out.kind).toBe('answered');
    if (out.kind !== 'answered') return;
    expect(out.response).toMatchObject({ status: 'completed', output: 'OK', tier: 'fast', modelId: FAST });
    expect(out.summary).toMatchObject({ status: 'completed', calls: 1, fallbacks: 0, escalations: 0, review: false });
    const record = s.ledger.records.get(out.response.requestId)!;
    expect(record).toMatchObject({ status: 'completed', tenantId: 'acme', output: 'OK', runs: 1 });
    const usage = await s.ledger.getUsage(s.month);
    expect(usage).toMatchObject({ requests: 1, openReservations: [] });
    expect(usage.costNanoUsd).toBe(record.costNanoUsd);
    expect(usage.committedNanoUsd).toBe(usage.costNanoUsd);
    expect(s.ledger.settlements).toHaveLength(1);
  });

  it('serves any tenant it is handed: one service, two tenants, each with its own record and models', async () => {
    const s = setup();
    const acme = fakeTenant();
    const globex = fakeTenant({ tenantId: 'globex', defaultTier: 'balanced' });
    const a = await s.service.infer(acme, { prompt: 'hi' }, s.deadline());
    const g = await s.service.infer(globex, { prompt: 'hi' }, s.deadline());
    if (a.kind !== 'answered' || g.kind !== 'answered') throw new Error('both should answer');
    expect(s.ledger.records.get(a.response.requestId)?.tenantId).toBe('acme');
    expect(s.ledger.records.get(g.response.requestId)?.tenantId).toBe('globex');
    expect(s.models.calls.map((c) => c.modelId)).toEqual([FAST, BALANCED]);
    // A tenant cannot read another's record.
    await expect(s.service.getRequest(acme, g.response.requestId)).rejects.toMatchObject({ code: 'not_found' });
    expect(await s.service.getRequest(globex, g.response.requestId)).toMatchObject({ status: 'completed' });
  });

  it('passes the tenant preamble with every call', async () => {
    const s = setup();
    await s.service.infer(fakeTenant({ preamble: { tenant: 'Be brief.' } }), { prompt: 'hi' }, s.deadline());
    expect(s.models.calls[0]!.preamble).toEqual({ tenant: 'Be brief.' });
  });

  it('replays a repeat of an idempotency key from the record: no model call, no charge', async () => {
    const s = setup();
    const tenant = fakeTenant();
    const first = await s.service.infer(tenant, { prompt: 'hi', idempotencyKey: 'k1' }, s.deadline());
    const again = await s.service.infer(tenant, { prompt: 'hi', idempotencyKey: 'k1' }, s.deadline());
    expect(again.kind).toBe('replayed');
    if (first.kind !== 'answered' || again.kind !== 'replayed') return;
    expect(again.response).toEqual(first.response);
    expect(s.models.calls).toHaveLength(1);
    expect(s.ledger.settlements).toHaveLength(1);
  });

  it('refuses a reused key with a different body (409) and writes nothing', async () => {
    const s = setup();
    const tenant = fakeTenant();
    await s.service.infer(tenant, { prompt: 'hi', idempotencyKey: 'k1' }, s.deadline());
    const e = await thrown(s.service.infer(tenant, { prompt: 'other', idempotencyKey: 'k1' }, s.deadline()));
    expect(e.code).toBe('idempotency_key_reused');
    expect(s.ledger.records.size).toBe(1);
  });

  it('refuses a request the budget cannot hold with 429 budget_exceeded and writes nothing', async () => {
    const s = setup();
    const e = await thrown(s.service.infer(fakeTenant({ monthlyBudgetUsd: 0 }), { prompt: 'hi' }, s.deadline()));
    expect(e.code).toBe('budget_exceeded');
    expect(e.retryAfterSeconds).toBeGreaterThan(0);
    expect(s.ledger.records.size).toBe(0);
    expect(s.models.calls).toHaveLength(0);
  });

  it('answers 503 ledger_unavailable when DynamoDB is down before acceptance, holding nothing', async () => {
    const s = setup();
    s.ledger.failWith('reserve');
    const e = await thrown(s.service.infer(fakeTenant(), { prompt: 'hi' }, s.deadline()));
    expect(e).toMatchObject({ code: 'ledger_unavailable', retryAfterSeconds: 3, requestId: undefined });
    expect((await s.ledger.getUsage(s.month)).openReservations).toEqual([]);
  });

  it('returns a failed outcome (with the record id and the metrics summary) when no model answered', async () => {
    const s = setup();
    s.models.script(FAST, 'error');
    const out = await s.service.infer(fakeTenant(), { prompt: 'hi' }, s.deadline());
    expect(out.kind).toBe('failed');
    if (out.kind !== 'failed') return;
    expect(out.error).toMatchObject({ code: 'model_error', retryAfterSeconds: undefined });
    expect(out.summary).toMatchObject({ status: 'failed', calls: 1 });
    expect(s.ledger.records.get(out.error.requestId!)?.status).toBe('failed');
    expect((await s.ledger.getUsage(s.month)).openReservations).toEqual([]);
  });

  it('falls back to the neighbouring tier when every model of the routed tier is unavailable', async () => {
    const s = setup();
    s.models.script(FAST, 'unavailable');
    const out = await s.service.infer(fakeTenant(), { prompt: 'hi' }, s.deadline());
    if (out.kind !== 'answered') throw new Error(out.kind);
    expect(out.response.tier).toBe('balanced');
    expect(out.summary).toMatchObject({ calls: 2, fallbacks: 1 });
  });

  it('hands an unsure answer at the strongest tier to review: pending_review, queued, workflow started', async () => {
    const s = setup({ confidence: 0.1 });
    const out = await s.service.infer(fakeTenant(), { prompt: 'hi' }, s.deadline());
    expect(out.kind).toBe('pending_review');
    if (out.kind !== 'pending_review') return;
    expect(out.response.output).toBeNull();
    expect(out.summary).toMatchObject({ escalations: 1, review: true, reviewHandOffFailed: false });
    expect(s.review.started).toEqual([
      expect.objectContaining({ requestId: out.response.requestId, tenantId: 'acme', confidence: 0.1 }),
    ]);
    expect(s.reviewQueue.open.size).toBe(1);
    expect(s.ledger.records.get(out.response.requestId)).toMatchObject({ status: 'pending_review' });
  });

  it('reports a failed hand-off in the summary and keeps the record pending_review', async () => {
    const s = setup({ confidence: 0.1 });
    s.review.failWith('start');
    const out = await s.service.infer(fakeTenant(), { prompt: 'hi' }, s.deadline());
    if (out.kind !== 'pending_review') throw new Error(out.kind);
    expect(out.summary.reviewHandOffFailed).toBe(true);
    expect(s.ledger.records.get(out.response.requestId)?.status).toBe('pending_review');
  });

  it('refuses a review over the open-review cap: failed outcome review_queue_full, charged, not released', async () => {
    const s = setup({ confidence: 0.1 });
    const tenant = fakeTenant({ escalation: { ...fakeTenant().escalation, maxOpenReviews: 1 } });
    await s.service.infer(tenant, { prompt: 'one' }, s.deadline());
    const out = await s.service.infer(tenant, { prompt: 'two' }, s.deadline());
    if (out.kind !== 'failed') throw new Error(out.kind);
    expect(out.error).toMatchObject({ code: 'review_queue_full', retryAfterSeconds: 300 });
    expect(out.summary.notReviewed).toBe('review_queue_full');
    const record = s.ledger.records.get(out.error.requestId!)!;
    expect(record.status).toBe('failed');
    expect(record.output).toBeUndefined();
    expect(record.costNanoUsd).toBeGreaterThan(0);
  });

  it('answers ledger_unavailable with the record id when the outcome cannot be written; the hold stays open', async () => {
    const s = setup();
    s.ledger.failWith('finishRequest');
    const e = await thrown(s.service.infer(fakeTenant(), { prompt: 'hi' }, s.deadline()));
    expect(e).toMatchObject({ code: 'ledger_unavailable', retryAfterSeconds: 60 });
    expect(e.requestId).toMatch(/^req_/);
    expect((await s.ledger.getUsage(s.month)).openReservations).toHaveLength(1);
  });

  it('gives the review place back when the pending_review outcome cannot be written', async () => {
    const s = setup({ confidence: 0.1 });
    s.ledger.failWith('finishRequest');
    const e = await thrown(s.service.infer(fakeTenant(), { prompt: 'hi' }, s.deadline()));
    expect(e.code).toBe('ledger_unavailable');
    expect(s.reviewQueue.open.size).toBe(0);
    expect(s.review.started).toEqual([]);
  });

  it('defers a settlement DynamoDB refused; the reconciler settles it later from the record', async () => {
    const s = setup();
    s.ledger.failWith('settle');
    const out = await s.service.infer(fakeTenant(), { prompt: 'hi' }, s.deadline());
    if (out.kind !== 'answered') throw new Error(out.kind);
    expect(out.summary.settlementDeferred).toBe(true);
    expect(out.summary.budgetUsedShare).toBeUndefined();
    s.clock.advance(10 * 60_000);
    expect(await s.service.reconcile(s.month)).toEqual({ settled: 1, released: 0 });
    const usage = await s.ledger.getUsage(s.month);
    expect(usage.requests).toBe(1);
    expect(usage.costNanoUsd).toBe(s.ledger.records.get(out.response.requestId)!.costNanoUsd);
  });

  it('reads the usage as GET /v1/usage shows it', async () => {
    const s = setup();
    const tenant = fakeTenant();
    await s.service.infer(tenant, { prompt: 'hi' }, s.deadline());
    const u = await s.service.getUsage(tenant);
    expect(u).toMatchObject({ tenantId: 'acme', month: s.month, requests: 1, budgetUsd: 10, runningRequests: 0 });
    expect(Object.keys(u.byTier)).toEqual(['fast']);
  });
});
