/** The review code's ledger items are parsed at the boundary: a malformed item is a clear error, not a guess. */
import { requestForReviewOf, reviewItemOf } from '../../../lambda/review/adapters/ledger-items';

const review = {
  pk: 'REV#rev_0000000000_a',
  sk: 'REVIEW',
  gsi1pk: 'REVIEWS#pending',
  gsi1sk: '2026-11-01T12:00:00.000Z#rev_0000000000_a',
  reviewId: 'rev_0000000000_a',
  requestId: 'req_0000000000',
  tenantId: 'acme',
  status: 'pending',
  createdAt: '2026-11-01T12:00:00.000Z',
  input: { messages: [{ role: 'user', content: 'q' }] },
  attempts: [{ tier: 'deep', modelId: 'm', outcome: 'ok', inputTokens: 1, outputTokens: 2, costUsd: 0, latencyMs: 5 }],
  proposedAnswer: 'a',
  confidence: null,
  tier: 'deep',
  modelId: 'm',
  expiresAt: 2_000_000_000,
};

describe('ledger items as the review code reads them', () => {
  it('a well-formed review item reads as it is, without its key attributes', () => {
    const { pk: _p, sk: _s, gsi1pk: _g, gsi1sk: _h, ...rest } = review;
    expect(reviewItemOf(review)).toEqual(rest);
  });

  it('a review item with a missing or mistyped attribute is a MalformedLedgerItem naming the item and attribute', () => {
    const { proposedAnswer: _a, ...missing } = review;
    expect(() => reviewItemOf(missing)).toThrow(
      /Malformed review item \{"pk":"REV#rev_0000000000_a","sk":"REVIEW"\}: proposedAnswer/,
    );
    expect(() => reviewItemOf({ ...review, status: 'maybe' })).toThrow(
      expect.objectContaining({ name: 'MalformedLedgerItem' }),
    );
    expect(() => reviewItemOf({ ...review, attempts: [{ tier: 'deep' }] })).toThrow(/attempts\.0\.modelId/);
  });

  it('a request record must hold what the review reads', () => {
    const record = {
      pk: 'REQ#req_0000000000',
      sk: 'REQUEST',
      requestId: 'req_0000000000',
      tenantId: 'acme',
      status: 'pending_review',
      tier: 'deep',
      modelId: 'm',
      attempts: [],
      expiresAt: 2_000_000_000,
      bodyHash: 'kept',
    };
    expect(requestForReviewOf(record)).toMatchObject({ status: 'pending_review', bodyHash: 'kept' });
    expect(() => requestForReviewOf({ ...record, status: 'lost' })).toThrow(/Malformed request record .*status/);
    expect(() => requestForReviewOf({ ...record, reviewInput: { messages: 'text' } })).toThrow(/reviewInput\.messages/);
  });
});
