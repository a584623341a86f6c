/**
 * Review listings and the export against the real store on dynalite: a page never outgrows what a Lambda
 * may answer (6 MB). With a small response budget, pages are cut short and their cursor continues right
 * after the last review they hold, so walking the cursors returns every review exactly once, in order.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { makeReviewStore } from '../../../lambda/review/adapters/dynamo-review-store';
import type { ReviewItem } from '../../../lambda/review/core/ports';
import { makeReviewApi } from '../../../lambda/review/http/review-api';
import { makeTelemetry } from '../../../lambda/shared/telemetry';
import { DynaliteServer } from '../../support/dynalite-server';
import { createLedgerTable } from '../../support/ledger-table';

const dynalite = new DynaliteServer();
const TABLE = 'ledger-paging';
let store: ReturnType<typeof makeReviewStore>;

const REVIEWS = 12;
/**
 * Each review carries a prompt of about 3 KB, quotes included (escaped twice in the Lambda response), so
 * a 10 KB budget holds two or three of them.
 */
const prompt = (i: number) => `Review ${i}: ${'"clause" '.repeat(350)}`;
/** Bytes of a body as the Lambda proxy response carries it (a JSON string inside JSON). */
const wireBytes = (body: string) => Buffer.byteLength(JSON.stringify(body));

beforeAll(async () => {
  await dynalite.start();
  await createLedgerTable(dynalite.dynamo, TABLE);
  const doc = DynamoDBDocumentClient.from(dynalite.dynamo, { marshallOptions: { removeUndefinedValues: true } });
  store = makeReviewStore(doc, TABLE);
  for (let i = 0; i < REVIEWS; i++) {
    const at = new Date(Date.UTC(2026, 10, 1, 12, 0, i)).toISOString();
    const review: ReviewItem = {
      reviewId: `rev_paging${String(i).padStart(4, '0')}_abc`,
      requestId: `req_paging${String(i).padStart(4, '0')}`,
      tenantId: 'acme',
      status: 'pending',
      createdAt: at,
      input: { messages: [{ role: 'user', content: prompt(i) }] },
      attempts: [],
      proposedAnswer: `answer ${i}`,
      confidence: 0.1,
      tier: 'deep',
      modelId: 'm',
      expiresAt: 2_000_000_000,
    };
    await store.createPending(review);
    // Half of them decided (in creation order), so both listings have pages to walk.
    if (i % 2 === 0) {
      await store.decide(review.reviewId, {
        status: i % 4 === 0 ? 'approved' : 'rejected',
        decidedAt: new Date(Date.UTC(2026, 10, 2, 12, 0, i)).toISOString(),
        reviewer: 'dana',
      });
    }
  }
}, 60_000);

afterAll(() => dynalite.stop());

function api(maxResponseBytes?: number) {
  return makeReviewApi({
    store,
    // Listing and export never touch tokens or tasks.
    cipher: {
      encrypt: () => Promise.reject(new Error('unused')),
      decrypt: () => Promise.reject(new Error('unused')),
    },
    tasks: { success: () => Promise.reject(new Error('unused')), heartbeat: () => Promise.reject(new Error('unused')) },
    telemetry: makeTelemetry({ tenantId: 'acme', service: 'test', level: 'ERROR' }),
    now: Date.now,
    ...(maxResponseBytes ? { maxResponseBytes } : {}),
  });
}

async function walkList(status: 'pending' | 'decided', maxBytes?: number) {
  const ids: string[] = [];
  const sizes: number[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < 50; n++) {
    const r = (await api(maxBytes).list({ status, limit: '100', ...(cursor ? { cursor } : {}) })) as {
      body: { reviews: Array<{ reviewId: string }>; next: string | null };
    };
    sizes.push(wireBytes(JSON.stringify(r.body)));
    ids.push(...r.body.reviews.map((x) => x.reviewId));
    if (!r.body.next) break;
    cursor = r.body.next;
  }
  return { ids, sizes };
}

describe('review listing and export pages fit the response', () => {
  it.each(['pending', 'decided'] as const)(
    '%s: pages cut to the byte budget continue right after their last review; every review once, in order',
    async (status) => {
      const whole = await walkList(status);
      expect(whole.sizes).toHaveLength(1);
      expect(whole.ids).toHaveLength(REVIEWS / 2);
      const cut = await walkList(status, 10_000);
      expect(cut.sizes.length).toBeGreaterThan(2);
      for (const size of cut.sizes) expect(size).toBeLessThanOrEqual(10_000);
      expect(cut.ids).toEqual(whole.ids);
    },
  );

  it('export: JSONL pages cut to the budget, continued by x-next-cursor, hold every labelled example once', async () => {
    const lines: Array<{ reviewId: string; label: string }> = [];
    let cursor: string | undefined;
    let pages = 0;
    for (; pages < 50; pages++) {
      const r = await api(8_000).exportExamples(cursor ? { cursor } : {});
      expect(wireBytes(r.raw ?? '')).toBeLessThanOrEqual(8_000);
      lines.push(
        ...(r.raw ?? '')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l)),
      );
      cursor = r.headers?.['x-next-cursor'];
      if (!cursor) break;
    }
    expect(pages).toBeGreaterThan(1);
    expect(lines.map((l) => l.reviewId)).toEqual(
      Array.from({ length: REVIEWS / 2 }, (_, k) => `rev_paging${String(2 * k).padStart(4, '0')}_abc`),
    );
    expect(lines.map((l) => l.label)).toEqual(
      Array.from({ length: REVIEWS / 2 }, (_, k) => (k % 2 === 0 ? 'approved' : 'rejected')),
    );
  });
});
