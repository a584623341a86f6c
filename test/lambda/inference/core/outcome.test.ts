/** The outcome step: usage of a record, the error when no model answered, the outcome of a run. */
import { errorForFailures, outcomeOfRun, usageOfRecord } from '../../../../lambda/inference/core/outcome';
import { ModelCallError } from '../../../../lambda/inference/core/ports';
import { resolveRequest } from '../../../../lambda/inference/core/resolve';
import type { Attempt } from '../../../../lambda/shared/api-schema';
import { DEFAULT_TIER_MODELS } from '../../../../lambda/shared/catalog';
import { fakeTenant } from '../../../support/inference-fakes';

const ok = (tier: string, costUsd: number, reason = 'route'): Attempt => ({
  tier,
  modelId: 'm',
  outcome: 'ok',
  inputTokens: 10,
  outputTokens: 5,
  costUsd,
  latencyMs: 3,
  reason,
});
const failed: Attempt = { ...ok('fast', 0), outcome: 'throttled', inputTokens: 0, outputTokens: 0 };

describe('usageOfRecord', () => {
  it('adds the answered calls per tier and counts the request on the tier that answered', () => {
    const u = usageOfRecord({
      status: 'completed',
      tier: 'balanced',
      attempts: [ok('fast', 0.000001), failed, ok('balanced', 0.000002)],
    });
    expect(u).toEqual({
      fast: { requests: 0, calls: 1, inputTokens: 10, outputTokens: 5, costNanoUsd: 1000 },
      balanced: { requests: 1, calls: 1, inputTokens: 10, outputTokens: 5, costNanoUsd: 2000 },
    });
  });

  it('counts no request for a failed run (its answered calls still cost)', () => {
    expect(usageOfRecord({ status: 'failed', tier: 'fast', attempts: [ok('fast', 0.000001)] }).fast?.requests).toBe(0);
  });
});

describe('errorForFailures', () => {
  const f = (kind: ConstructorParameters<typeof ModelCallError>[0], name = 'X') => new ModelCallError(kind, 'm', name);
  it.each([
    [[f('error', 'ValidationException')], undefined, 'model_error', /rejected the call \(ValidationException\)/],
    [[f('denied'), f('denied')], undefined, 'model_unavailable', /may not call any of the models/],
    [[f('timeout'), f('timeout')], undefined, 'model_timeout', /2 call\(s\) tried/],
    [
      [f('throttled'), f('error')],
      'm skipped: no time',
      'model_unavailable',
      /failed \(2 call\(s\): X; m skipped: no time\)/,
    ],
    [[], 'm skipped: budget', 'model_unavailable', /0 call\(s\): none; m skipped: budget/],
  ])('%# maps the failures to a code and message', (failures, skipped, code, message) => {
    const e = errorForFailures(failures, skipped);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });
});

describe('outcomeOfRun', () => {
  const tenant = fakeTenant();
  const resolved = resolveRequest(tenant, { prompt: 'hi', system: 'be brief' });
  const best = {
    kind: 'ok' as const,
    tier: 'fast' as const,
    modelId: DEFAULT_TIER_MODELS.fast,
    reply: { text: 'A', stopReason: 'end_turn', inputTokens: 10, outputTokens: 5, latencyMs: 3 },
    confidence: 0.2,
  };
  const run = {
    resolved,
    attempts: [ok('fast', 0.000001)],
    failures: [],
    skipped: undefined,
    startedAt: 1000,
    endedAt: 1500,
    reservationIds: ['a.r.1'],
  };

  it('records a review that was queued as pending_review with the bounded review input', () => {
    const r = outcomeOfRun({
      ...run,
      cascade: { best, review: true, truncated: false },
      reviewId: 'rev_1',
      notReviewed: undefined,
    });
    expect(r.queued).toBe(true);
    expect(r.outcome).toMatchObject({
      status: 'pending_review',
      output: 'A',
      reviewId: 'rev_1',
      latencyMs: 500,
      costNanoUsd: 1000,
      reviewInput: { system: 'be brief', messages: [{ role: 'user', content: 'hi' }] },
      reservationIds: ['a.r.1'],
    });
  });

  it('does not keep an answer that needed review but was refused: failed, with the refusal as its error', () => {
    const refusal = { code: 'review_rate_exceeded' as const, message: 'too many', retryAfterSeconds: 10 };
    const r = outcomeOfRun({
      ...run,
      cascade: { best, review: true, truncated: false },
      reviewId: 'rev_1',
      notReviewed: refusal,
    });
    expect(r.outcome.status).toBe('failed');
    expect(r.outcome.output).toBeUndefined();
    expect(r.outcome.error).toEqual({ code: 'review_rate_exceeded', message: 'too many' });
    expect(r.outcome.costNanoUsd).toBe(1000);
  });
});
