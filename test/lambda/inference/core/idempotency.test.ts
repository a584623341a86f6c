/** The idempotency step: request ids from keys, body hashes, and what a repeat gets. */
import {
  bodyHash,
  canonicalJson,
  replayDecision,
  requestIdForKey,
} from '../../../../lambda/inference/core/idempotency';
import type { RequestRecord } from '../../../../lambda/inference/core/ports';

const record = (over: Partial<RequestRecord> = {}): RequestRecord => ({
  requestId: 'req_idem000000001',
  tenantId: 'acme',
  status: 'completed',
  createdAt: '2026-06-15T12:00:00.000Z',
  updatedAt: '2026-06-15T12:00:01.000Z',
  month: '2026-06',
  tier: 'fast',
  modelId: 'us.amazon.nova-micro-v1:0',
  routeReason: 'explicit',
  bodyHash: bodyHash({ prompt: 'hi' }),
  idempotencyKey: 'k1',
  runs: 1,
  runId: 'r1',
  inputTokens: 1,
  outputTokens: 2,
  costNanoUsd: 5,
  attempts: [],
  output: 'OK',
  expiresAt: 0,
  ...over,
});

describe('idempotency', () => {
  it('derives a stable request id per tenant and key', () => {
    expect(requestIdForKey('acme', 'k1')).toBe(requestIdForKey('acme', 'k1'));
    expect(requestIdForKey('acme', 'k1')).not.toBe(requestIdForKey('globex', 'k1'));
    expect(requestIdForKey('acme', 'k1')).toMatch(/^req_[A-Za-z0-9_-]{26}$/);
  });

  it('hashes what determines the answer: key order does not matter, key and metadata do not count', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: undefined }] })).toBe('{"a":[1,{"d":2}],"b":1}');
    expect(bodyHash({ prompt: 'hi', maxTokens: 5 })).toBe(
      bodyHash({ maxTokens: 5, prompt: 'hi', idempotencyKey: 'x', metadata: { a: 'b' } }),
    );
    expect(bodyHash({ prompt: 'hi' })).not.toBe(bodyHash({ prompt: 'hi!' }));
  });

  it('replays an answered record', () => {
    const d = replayDecision(record(), bodyHash({ prompt: 'hi' }), 0);
    expect(d).toMatchObject({
      kind: 'replay',
      response: { requestId: 'req_idem000000001', output: 'OK', status: 'completed' },
    });
  });

  it('runs a failed request that charged nothing again, as the next run of the same record', () => {
    expect(
      replayDecision(record({ status: 'failed', costNanoUsd: 0, runs: 2 }), bodyHash({ prompt: 'hi' }), 0),
    ).toEqual({ kind: 'retry', runs: 3 });
  });

  it.each([
    ['a different body', record(), { prompt: 'other' }, 'idempotency_key_reused', undefined],
    ['a run still in progress', record({ status: 'in_progress' }), { prompt: 'hi' }, 'request_in_progress', 2],
    [
      'a charged answer whose review failed',
      record({ status: 'failed', error: { code: 'review_failed', message: 'm' } }),
      { prompt: 'hi' },
      'review_failed',
      undefined,
    ],
    [
      'a review cap refusal',
      record({ status: 'failed', error: { code: 'review_queue_full', message: 'full' } }),
      { prompt: 'hi' },
      'review_queue_full',
      300,
    ],
  ])('refuses a repeat of %s', (_name, existing, body, code, retryAfter) => {
    let error: unknown;
    try {
      replayDecision(existing, bodyHash(body), 0);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code, retryAfterSeconds: retryAfter });
  });
});
