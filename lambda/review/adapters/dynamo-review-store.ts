/**
 * `ReviewStore` on DynamoDB: review items and the review side of request records, on the tenant's ledger
 * table (every item read is parsed, see ledger-items.ts). Every write is a
 * single-item conditional update, so each state change happens once: a review is created once, decided
 * once (the first decision wins; a second sees the condition fail), expired only while still pending,
 * and a request record leaves `pending_review` once.
 *
 * The store is built on a {@link KeyScope} (a silo tenant's table, or a pooled tenant's `T#<tenant>#` items of its
 * cell's table). Paging cursors carry the index key without the scope's prefix, so a cursor reads the same in
 * both models (what core/listing.ts checks) and names no tenant; the prefix is put back when one is used.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { whenConditionHolds } from '../../shared/dynamo';
import { type KeyScope, SILO_KEY_SCOPE, scoped, unscoped } from '../../shared/key-scope';
import { requestKey as requestKeyIn } from '../../shared/ledger-schema';
import {
  REVIEW_GSI,
  type REVIEW_PARTITIONS,
  reviewKey as reviewKeyIn,
  reviewPartition,
} from '../../shared/review-schema';
import type {
  DecisionRecord,
  ListedRequest,
  Page,
  RequestForReview,
  ReviewItem,
  ReviewListing,
  ReviewResolution,
  ReviewStore,
} from '../core/ports';
import { listedRequestOf, requestForReviewOf, requestStateOf, reviewItemOf } from './ledger-items';

type Partition = keyof typeof REVIEW_PARTITIONS;
/** The index key attributes whose values carry the scope's prefix. */
const SCOPED_CURSOR_KEYS = ['pk', REVIEW_GSI.partitionKey] as const;

class DynamoReviewStore implements ReviewStore {
  private readonly requestKey: (requestId: string) => Record<string, string>;
  private readonly reviewKey: (reviewId: string) => Record<string, string>;
  private readonly partition: (which: Partition) => string;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly scope: KeyScope = SILO_KEY_SCOPE,
  ) {
    this.requestKey = (requestId) => requestKeyIn(requestId, scope);
    this.reviewKey = (reviewId) => reviewKeyIn(reviewId, scope);
    this.partition = (which) => reviewPartition(which, scope);
  }

  /** A paging cursor of an index key: base64url JSON, the scope's prefix taken off. */
  private cursorOf(key: Record<string, unknown>): string {
    const out = { ...key };
    for (const k of SCOPED_CURSOR_KEYS) {
      if (typeof out[k] === 'string') out[k] = unscoped(this.scope, out[k] as string) ?? out[k];
    }
    return Buffer.from(JSON.stringify(out)).toString('base64url');
  }

  /** The index key of a cursor (checked by core/listing.ts), with the scope's prefix put back. */
  private keyOfCursor(cursor: string): Record<string, unknown> {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    for (const k of SCOPED_CURSOR_KEYS) if (typeof key[k] === 'string') key[k] = scoped(this.scope, key[k] as string);
    return key;
  }

  private async update(
    key: Record<string, string>,
    sets: Record<string, unknown>,
    condition: string,
    extra: { names?: Record<string, string>; values?: Record<string, unknown>; remove?: string[] } = {},
  ): Promise<boolean> {
    const names: Record<string, string> = { ...extra.names };
    const values: Record<string, unknown> = { ...extra.values };
    const parts: string[] = [];
    for (const [k, v] of Object.entries(sets)) {
      if (v === undefined) continue;
      names[`#${k}`] = k;
      values[`:${k}`] = v;
      parts.push(`#${k} = :${k}`);
    }
    const removes = (extra.remove ?? []).map((r) => {
      names[`#${r}`] = r;
      return `#${r}`;
    });
    return whenConditionHolds(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: [
            parts.length ? `SET ${parts.join(', ')}` : '',
            removes.length ? `REMOVE ${removes.join(', ')}` : '',
          ]
            .filter(Boolean)
            .join(' '),
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
        }),
      ),
    );
  }

  private async query(which: Partition, limit: number, cursor?: string): Promise<Page<ReviewItem>> {
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: REVIEW_GSI.name,
        KeyConditionExpression: '#p = :p',
        ExpressionAttributeNames: { '#p': REVIEW_GSI.partitionKey },
        ExpressionAttributeValues: { ':p': this.partition(which) },
        ScanIndexForward: true,
        Limit: limit,
        ...(cursor ? { ExclusiveStartKey: this.keyOfCursor(cursor) } : {}),
      }),
    );
    return {
      items: (res.Items ?? []).map(reviewItemOf),
      ...(res.LastEvaluatedKey ? { next: this.cursorOf(res.LastEvaluatedKey) } : {}),
    };
  }

  /** Request records listed in a sparse partition of the index (hand-offs, decisions to apply) before `before`. */
  private async requestsListedIn(which: Partition, before: string, limit: number): Promise<ListedRequest[]> {
    const out: ListedRequest[] = [];
    let start: Record<string, unknown> | undefined;
    // Paged, so entries that stay listed for a while (skipped for now) never hide the ones behind them.
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: REVIEW_GSI.name,
          KeyConditionExpression: '#p = :p AND #s < :before',
          ExpressionAttributeNames: { '#p': REVIEW_GSI.partitionKey, '#s': REVIEW_GSI.sortKey },
          ExpressionAttributeValues: { ':p': this.partition(which), ':before': before },
          Limit: Math.min(100, limit - out.length),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const i of res.Items ?? []) out.push(listedRequestOf(i));
      start = res.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }

  async getRequest(requestId: string): Promise<RequestForReview | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: this.requestKey(requestId), ConsistentRead: true }),
    );
    return res.Item ? requestForReviewOf(res.Item) : undefined;
  }

  async getReview(reviewId: string): Promise<ReviewItem | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: this.reviewKey(reviewId), ConsistentRead: true }),
    );
    return res.Item ? reviewItemOf(res.Item) : undefined;
  }

  /** Creates the pending review unless it exists (a retried step finds it). */
  async createPending(review: ReviewItem): Promise<'created' | 'exists'> {
    const created = await whenConditionHolds(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...this.reviewKey(review.reviewId),
            ...review,
            [REVIEW_GSI.partitionKey]: this.partition('pending'),
            [REVIEW_GSI.sortKey]: `${review.createdAt}#${review.reviewId}`,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    return created ? 'created' : 'exists';
  }

  /** Stores the (encrypted) task token of a pending review. */
  saveToken(reviewId: string, tokenCiphertext: string): Promise<boolean> {
    return this.update(this.reviewKey(reviewId), { tokenCiphertext }, '#status = :pending', {
      names: { '#status': 'status' },
      values: { ':pending': 'pending' },
    });
  }

  /**
   * Records a decision or an expiry: only from `pending` (and, for a person's decision, only once the
   * workflow is waiting, i.e. the token is stored). Moves the review to the decided partition. A
   * person's decision keeps the encrypted token until the workflow has applied it (`markApplied`), so a
   * resume that failed can be sent again; an expiry or a failure removes it at once.
   */
  decide(reviewId: string, d: DecisionRecord): Promise<boolean> {
    const { requireToken, ...sets } = d;
    return this.update(
      this.reviewKey(reviewId),
      {
        ...sets,
        [REVIEW_GSI.partitionKey]: this.partition('decided'),
        [REVIEW_GSI.sortKey]: `${d.decidedAt}#${reviewId}`,
      },
      `#status = :pending${requireToken ? ' AND attribute_exists(tokenCiphertext)' : ''}`,
      {
        names: { '#status': 'status' },
        values: { ':pending': 'pending' },
        remove: requireToken ? [] : ['tokenCiphertext'],
      },
    );
  }

  /**
   * Marks a decided review as applied to its request and drops its encrypted task token (the decision API
   * no longer needs it to resume the execution).
   */
  markApplied(reviewId: string, at: string): Promise<boolean> {
    return this.update(this.reviewKey(reviewId), { appliedAt: at }, 'attribute_exists(pk) AND #status <> :pending', {
      names: { '#status': 'status' },
      values: { ':pending': 'pending' },
      remove: ['tokenCiphertext'],
    });
  }

  /**
   * Lists a request whose review was just decided (or expired) as waiting for the decision to be applied:
   * a sparse index entry that `resolveRequest` removes. If no execution applies it, the sweeper will.
   */
  markToApply(requestId: string, at: string): Promise<boolean> {
    return this.update(
      this.requestKey(requestId),
      { [REVIEW_GSI.partitionKey]: this.partition('apply'), [REVIEW_GSI.sortKey]: `${at}#${requestId}` },
      '#status = :pendingReview',
      { names: { '#status': 'status' }, values: { ':pendingReview': 'pending_review' } },
    );
  }

  /** Requests whose review decision was recorded before `before` (ISO time) and is still not applied. */
  listToApply(before: string, limit: number): Promise<ListedRequest[]> {
    return this.requestsListedIn('apply', before, limit);
  }

  setWebhook(reviewId: string, webhook: 'delivered' | 'failed'): Promise<boolean> {
    return this.update(this.reviewKey(reviewId), { webhook }, 'attribute_exists(pk)');
  }

  /** Takes a request off the hand-off list: its workflow has started. */
  markHandedOff(requestId: string): Promise<boolean> {
    return this.update(this.requestKey(requestId), {}, 'attribute_exists(#gpk)', {
      names: { '#gpk': REVIEW_GSI.partitionKey },
      remove: [REVIEW_GSI.partitionKey, REVIEW_GSI.sortKey],
    });
  }

  /** Requests still waiting for their workflow to start, handed off before `before` (ISO time). */
  listHandOffs(before: string, limit: number): Promise<ListedRequest[]> {
    return this.requestsListedIn('handoff', before, limit);
  }

  /** Moves a request out of `pending_review` (once). */
  resolveRequest(requestId: string, r: ReviewResolution, at: string): Promise<boolean> {
    return this.update(
      this.requestKey(requestId),
      { status: r.status, updatedAt: at, review: r.review, ...(r.output !== undefined ? { output: r.output } : {}) },
      '#status = :pendingReview',
      {
        names: { '#status': 'status' },
        values: { ':pendingReview': 'pending_review' },
        // The prompt copy goes; the model's answer stays only if it is released.
        remove: [
          'reviewInput',
          REVIEW_GSI.partitionKey,
          REVIEW_GSI.sortKey,
          ...(r.output === undefined ? ['output'] : []),
        ],
      },
    );
  }

  /**
   * The status and review id of request records, by id, for the sweeper's check of the review queue's open
   * places: single-item reads (the roles may not BatchGetItem), ten at a time, projected. `unread`: ids whose
   * read failed; an id in neither `found` nor `unread` has no record.
   */
  async requestStates(requestIds: readonly string[]) {
    const found = new Map<string, { status: string; reviewId?: string }>();
    const unread = new Set<string>();
    const ids = [...new Set(requestIds)];
    for (let i = 0; i < ids.length; i += 10) {
      await Promise.all(
        ids.slice(i, i + 10).map(async (id) => {
          try {
            const res = await this.doc.send(
              new GetCommand({
                TableName: this.tableName,
                Key: this.requestKey(id),
                ConsistentRead: true,
                ProjectionExpression: '#s, reviewId',
                ExpressionAttributeNames: { '#s': 'status' },
              }),
            );
            if (res.Item) found.set(id, requestStateOf(res.Item));
          } catch {
            unread.add(id);
          }
        }),
      );
    }
    return { found, unread };
  }

  /** Marks a request whose review workflow failed. */
  failRequest(requestId: string, at: string, message: string): Promise<boolean> {
    return this.update(
      this.requestKey(requestId),
      { status: 'failed', updatedAt: at, error: { code: 'review_failed', message } },
      '#status = :pendingReview',
      {
        names: { '#status': 'status' },
        values: { ':pendingReview': 'pending_review' },
        remove: [REVIEW_GSI.partitionKey, REVIEW_GSI.sortKey],
      },
    );
  }

  /** The cursor that continues a listing of `partition` right after `item` (for pages cut short). */
  cursorAfter(item: ReviewItem, partition: ReviewListing): string {
    const sortTime = partition === 'pending' ? item.createdAt : item.decidedAt;
    return this.cursorOf({
      ...this.reviewKey(item.reviewId),
      [REVIEW_GSI.partitionKey]: this.partition(partition),
      [REVIEW_GSI.sortKey]: `${sortTime}#${item.reviewId}`,
    });
  }

  /** Pending reviews, oldest first. */
  listPending(limit: number, cursor?: string): Promise<Page<ReviewItem>> {
    return this.query('pending', limit, cursor);
  }

  /** Decided and expired reviews in decision order (the labelled examples). */
  listDecided(limit: number, cursor?: string): Promise<Page<ReviewItem>> {
    return this.query('decided', limit, cursor);
  }
}

/** The review store on a shared DocumentClient (created once per container by the caller), on `scope`'s keys. */
export function makeReviewStore(
  doc: DynamoDBDocumentClient,
  tableName: string,
  scope: KeyScope = SILO_KEY_SCOPE,
): ReviewStore {
  return new DynamoReviewStore(doc, tableName, scope);
}
