/** The reconciler on the in-memory ledger: dead runs are settled from their records, or released. */

import type { RequestRecord } from '../../../../lambda/inference/core/ports';
import { Reconciler, STALE_RESERVATION_MS } from '../../../../lambda/inference/core/reconciler';
import { FakeClock, FakeLedger } from '../../../support/inference-fakes';

const MONTH = '2026-06';
const base: RequestRecord = {
  requestId: 'req_recon00000001',
  tenantId: 'acme',
  status: 'in_progress',
  createdAt: '',
  updatedAt: '',
  month: MONTH,
  tier: 'fast',
  modelId: 'm',
  routeReason: 'r',
  bodyHash: 'h',
  runs: 1,
  runId: 'run1',
  inputTokens: 0,
  outputTokens: 0,
  costNanoUsd: 0,
  attempts: [],
  expiresAt: 0,
};

async function setup(record: Partial<RequestRecord>, reservationIds = ['req_recon00000001.run1.1']) {
  const clock = new FakeClock();
  const ledger = new FakeLedger();
  ledger.records.set(base.requestId, { ...base, ...record });
  for (const id of reservationIds) {
    await ledger.reserve(MONTH, { id, requestId: base.requestId, nanoUsd: 5000, at: clock.now() }, 1e12);
  }
  return { clock, ledger, reconciler: new Reconciler({ ledger, clock }) };
}

describe('Reconciler', () => {
  it('leaves a run alone while its newest reservation is recent', async () => {
    const s = await setup({});
    s.clock.advance(STALE_RESERVATION_MS);
    expect(await s.reconciler.reconcile(MONTH)).toEqual({ settled: 0, released: 0 });
  });

  it('settles a finished run whose settlement was lost, from its record, exactly once', async () => {
    const attempts = [
      {
        tier: 'fast',
        modelId: 'm',
        outcome: 'ok' as const,
        inputTokens: 3,
        outputTokens: 4,
        costUsd: 0.000002,
        latencyMs: 1,
      },
    ];
    const s = await setup({
      status: 'completed',
      attempts,
      costNanoUsd: 2000,
      reservationIds: ['req_recon00000001.run1.1'],
    });
    s.clock.advance(STALE_RESERVATION_MS + 1);
    expect(await s.reconciler.reconcile(MONTH)).toEqual({ settled: 1, released: 0 });
    expect(await s.reconciler.reconcile(MONTH)).toEqual({ settled: 0, released: 0 });
    expect(await s.ledger.getUsage(MONTH)).toMatchObject({ requests: 1, costNanoUsd: 2000, committedNanoUsd: 2000 });
  });

  it('fails a run that died in progress and releases its hold', async () => {
    const s = await setup({});
    s.clock.advance(STALE_RESERVATION_MS + 1);
    expect(await s.reconciler.reconcile(MONTH)).toEqual({ settled: 0, released: 1 });
    expect(s.ledger.records.get(base.requestId)).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
    expect(await s.ledger.getUsage(MONTH)).toMatchObject({ requests: 0, committedNanoUsd: 0 });
  });

  it('releases what is left of a run that already settled, without charging it again', async () => {
    const s = await setup({ status: 'completed', reservationIds: ['req_recon00000001.run1.1'] }, [
      'req_recon00000001.run1.2',
    ]);
    s.clock.advance(STALE_RESERVATION_MS + 1);
    expect(await s.reconciler.reconcile(MONTH)).toEqual({ settled: 0, released: 1 });
  });

  it('reconciles this month and the last on the schedule, and fails when a month cannot be read', async () => {
    const s = await setup({});
    s.clock.advance(STALE_RESERVATION_MS + 1);
    expect(await s.reconciler.reconcileRecent()).toEqual({
      '2026-05': { settled: 0, released: 0 },
      '2026-06': { settled: 0, released: 1 },
    });
    s.ledger.failWith('getUsage');
    await expect(s.reconciler.reconcileRecent()).rejects.toThrow('down');
  });
});
