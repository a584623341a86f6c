/** The accept step: claiming the record, and what happens when the claim's write fails or loses a race. */
import { acceptRun, newRecord, type RunStart } from '../../../../lambda/inference/core/accept';
import { BudgetHold, budgetLimitsOf } from '../../../../lambda/inference/core/budget';
import { bodyHash } from '../../../../lambda/inference/core/idempotency';
import { resolveRequest } from '../../../../lambda/inference/core/resolve';
import type { DomainError } from '../../../../lambda/shared/errors';
import { FakeClock, FakeLedger, fakeTenant } from '../../../support/inference-fakes';

const tenant = fakeTenant();
const REQ = 'req_accept0000001';
const MONTH = '2026-06';

async function setup() {
  const clock = new FakeClock();
  const ledger = new FakeLedger();
  const hold = new BudgetHold(ledger, clock, budgetLimitsOf(tenant), { requestId: REQ, runId: 'run1', month: MONTH });
  await hold.reserve(1000, 'cap');
  const req = { prompt: 'hi', idempotencyKey: 'k' };
  const run: RunStart = {
    tenant,
    req,
    resolved: resolveRequest(tenant, req),
    requestId: REQ,
    runId: 'run1',
    runs: 1,
    hash: bodyHash(req),
    month: MONTH,
    at: new Date(clock.now()).toISOString(),
    expiresAt: 1,
  };
  const open = async () => (await ledger.getUsage(MONTH)).openReservations.length;
  return {
    clock,
    ledger,
    hold,
    run,
    open,
    accept: (reopen = false) => acceptRun(ledger, run, hold, reopen, clock.now),
  };
}

describe('acceptRun', () => {
  it('creates the in-progress record of the run', async () => {
    const s = await setup();
    expect(await s.accept()).toBe('accepted');
    expect(s.ledger.records.get(REQ)).toMatchObject({
      status: 'in_progress',
      runId: 'run1',
      idempotencyKey: 'k',
      runs: 1,
    });
  });

  it("counts a create that failed but landed as accepted (read back: the record is this run's)", async () => {
    const s = await setup();
    // The write lands, then its response is lost.
    const create = s.ledger.createRequest.bind(s.ledger);
    s.ledger.createRequest = async (r) => {
      await create(r);
      throw Object.assign(new Error('lost'), { name: 'TimeoutError' });
    };
    expect(await s.accept()).toBe('accepted');
    expect(await s.open()).toBe(1);
  });

  it('releases the hold and refuses (503) when the create failed and did not land', async () => {
    const s = await setup();
    s.ledger.failWith('createRequest');
    await expect(s.accept()).rejects.toMatchObject({ code: 'ledger_unavailable', retryAfterSeconds: 3 });
    expect(await s.open()).toBe(0);
  });

  it('keeps the hold (for the reconciler) when not even the read-back works', async () => {
    const s = await setup();
    s.ledger.failWith('createRequest');
    s.ledger.failWith('getRequest');
    const e = await s.accept().catch((x: DomainError) => x);
    expect(e).toMatchObject({ code: 'ledger_unavailable' });
    expect((e as DomainError).message).toMatch(/may show as in progress/);
    expect(await s.open()).toBe(1);
  });

  it("answers from the winner's record when a request with the same key created it first", async () => {
    const s = await setup();
    const winner = { ...newRecord(s.run), runId: 'run0' };
    s.ledger.records.set(REQ, { ...winner, status: 'completed', output: 'first' });
    expect(await s.accept()).toMatchObject({ kind: 'replay', response: { output: 'first' } });
    expect(await s.open()).toBe(0);
  });

  it('refuses a retry when another retry reopened the failed record first', async () => {
    const s = await setup();
    await expect(s.accept(true)).rejects.toMatchObject({ code: 'request_in_progress', requestId: REQ });
    expect(await s.open()).toBe(0);
  });
});
