/**
 * The adapters on a key scope: every DynamoDB request the ledger, the review queue and the review store build names
 * only keys (and review index partitions) under the scope they were built with, `T#<tenant>#` for a pooled tenant,
 * the key design's own for a silo one. A tenant-scoped session may name nothing else (the tenant-access role's
 * `dynamodb:LeadingKeys` condition); this is the code's half: it never tries. Each method is called on a recording
 * client and every key of every request it sent is checked.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { makeDynamoLedger } from '../../../lambda/inference/adapters/dynamo-ledger';
import type { RequestRecord } from '../../../lambda/inference/core/ports';
import { makeReviewStore } from '../../../lambda/review/adapters/dynamo-review-store';
import { checkedCursor } from '../../../lambda/review/core/listing';
import type { ReviewItem } from '../../../lambda/review/core/ports';
import { makeDynamoReviewQueue } from '../../../lambda/shared/dynamo-review-queue';
import { type KeyScope, poolKeyScope, SILO_KEY_SCOPE } from '../../../lambda/shared/key-scope';
import { REVIEW_GSI, REVIEW_PARTITIONS } from '../../../lambda/shared/review-schema';

interface Sent {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

/** A DocumentClient that records what it is sent and answers as if every item were absent and every write held. */
function recordingClient() {
  const sent: Sent[] = [];
  const doc = {
    async send(cmd: { constructor: { name: string }; input: Record<string, unknown> }) {
      sent.push({ command: cmd.constructor.name, input: cmd.input });
      return cmd.constructor.name === 'UpdateCommand' ? { Attributes: { count: 1 } } : { Items: [] };
    },
  } as unknown as DynamoDBDocumentClient;
  return { doc, sent };
}

/** Every partition key value and review index partition value a request names. */
function partitionValues(s: Sent): string[] {
  const i = s.input as {
    Key?: { pk?: string };
    Item?: Record<string, unknown>;
    ExclusiveStartKey?: Record<string, unknown>;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, unknown>;
    KeyConditionExpression?: string;
  };
  const out: string[] = [];
  if (i.Key) out.push(String(i.Key.pk));
  for (const item of [i.Item, i.ExclusiveStartKey]) {
    if (!item) continue;
    out.push(String(item.pk));
    if (item[REVIEW_GSI.partitionKey] !== undefined) out.push(String(item[REVIEW_GSI.partitionKey]));
  }
  // Values set into, or queried on, the review index's partition key.
  const names = i.ExpressionAttributeNames ?? {};
  const gsiAliases = Object.entries(names)
    .filter(([, n]) => n === REVIEW_GSI.partitionKey)
    .map(([alias]) => alias);
  for (const alias of gsiAliases) {
    for (const m of `${i.KeyConditionExpression ?? ''} ${(i as { UpdateExpression?: string }).UpdateExpression ?? ''}`.matchAll(
      new RegExp(`${alias}\\s*=\\s*(:\\w+)`, 'g'),
    )) {
      out.push(String(i.ExpressionAttributeValues?.[m[1]!]));
    }
  }
  return out;
}

const record = (requestId: string) =>
  ({ requestId, runId: 'run1', tenantId: 'acme', status: 'in_progress' }) as unknown as RequestRecord;
const review: ReviewItem = {
  reviewId: 'rev_abcdefghijklmnop_run1',
  requestId: 'req_abcdefghijklmnop',
  tenantId: 'acme',
  status: 'pending',
  createdAt: '2026-12-02T10:00:00.000Z',
  decidedAt: '2026-12-02T10:05:00.000Z',
  input: { messages: [{ role: 'user', content: 'hi' }] },
  attempts: [],
  proposedAnswer: 'x',
  confidence: 0.1,
  tier: 'fast',
  modelId: 'm',
  expiresAt: 1,
};

/** Calls every method of the three adapters built on `scope`; returns what they sent. */
async function everyRequest(scope: KeyScope): Promise<Sent[]> {
  const { doc, sent } = recordingClient();
  const ledger = makeDynamoLedger(doc, 'table', scope);
  await ledger.getRequest('req_abcdefghijklmnop');
  await ledger.createRequest(record('req_abcdefghijklmnop'));
  await ledger.reopenFailedRequest('req_abcdefghijklmnop', {
    at: 'x',
    runs: 2,
    runId: 'run2',
    month: '2026-12',
    expiresAt: 1,
  });
  await ledger.finishRequest('req_abcdefghijklmnop', 'run1', {
    status: 'pending_review',
    updatedAt: '2026-12-02T10:00:00.000Z',
  } as never);
  await ledger.reserve('2026-12', { id: 'r.1', requestId: 'req_abcdefghijklmnop', nanoUsd: 5, at: 1 }, 100);
  await ledger.settle('2026-12', {
    requestId: 'req_abcdefghijklmnop',
    reservationIds: ['r.1'],
    reservedNanoUsd: 5,
    requests: 1,
    byTier: {},
  });
  await ledger.getUsage('2026-12');

  const queue = makeDynamoReviewQueue(doc, 'table', scope);
  await queue.admit(
    { reviewId: review.reviewId, requestId: review.requestId, at: Date.UTC(2026, 11, 2, 10) },
    { maxOpen: 5, maxPerHour: 5 },
  );
  await queue.release(review.reviewId, { admittedAt: Date.UTC(2026, 11, 2, 10) });
  await queue.state();

  const store = makeReviewStore(doc, 'table', scope);
  await store.getRequest(review.requestId);
  await store.getReview(review.reviewId);
  await store.createPending(review);
  await store.saveToken(review.reviewId, 'cipher');
  await store.decide(review.reviewId, { status: 'approved', decidedAt: review.decidedAt!, requireToken: true });
  await store.markApplied(review.reviewId, 'x');
  await store.markToApply(review.requestId, 'x');
  await store.listToApply('z', 5);
  await store.setWebhook(review.reviewId, 'delivered');
  await store.markHandedOff(review.requestId);
  await store.listHandOffs('z', 5);
  await store.resolveRequest(
    review.requestId,
    { status: 'reviewed', review: { reviewId: review.reviewId, outcome: 'approved', decidedAt: 'x' } },
    'x',
  );
  await store.requestStates([review.requestId]);
  await store.failRequest(review.requestId, 'x', 'failed');
  await store.listPending(5, store.cursorAfter(review, 'pending'));
  await store.listDecided(5, store.cursorAfter(review, 'decided'));
  return sent;
}

describe('adapters on a key scope', () => {
  it("send a pooled tenant's keys only under its own prefix: every key, every review index partition, every cursor", async () => {
    for (const tenant of ['acme', 'acme-eu']) {
      const sent = await everyRequest(poolKeyScope(tenant));
      expect(sent.length).toBeGreaterThan(25);
      for (const s of sent) {
        const values = partitionValues(s);
        expect({ command: s.command, named: values.length > 0 }).toEqual({ command: s.command, named: true });
        for (const v of values)
          expect({ command: s.command, value: v }).toEqual({
            command: s.command,
            value: expect.stringMatching(new RegExp(`^T#${tenant}#`)),
          });
      }
    }
  });

  it("send the key design's own keys for a silo (the default scope): no prefix anywhere", async () => {
    for (const s of await everyRequest(SILO_KEY_SCOPE)) {
      for (const v of partitionValues(s)) expect(v).toMatch(/^(REQ|USAGE|REV|REVQ|REVIEWS|HANDOFF|APPLY)#/);
    }
  });

  it('give paging cursors without the prefix (they name no tenant), which the listing accepts and the store scopes again', async () => {
    const { doc, sent } = recordingClient();
    const store = makeReviewStore(doc, 'table', poolKeyScope('acme'));
    const cursor = store.cursorAfter(review, 'pending');
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    expect(key).toMatchObject({ pk: `REV#${review.reviewId}`, [REVIEW_GSI.partitionKey]: REVIEW_PARTITIONS.pending });
    expect(checkedCursor(cursor, 'pending')).toBe(cursor);
    await store.listPending(5, cursor);
    expect(sent.at(-1)!.input.ExclusiveStartKey).toMatchObject({
      pk: `T#acme#REV#${review.reviewId}`,
      [REVIEW_GSI.partitionKey]: `T#acme#${REVIEW_PARTITIONS.pending}`,
    });
  });
});
