/**
 * Review items and the review side of request records, on the tenant's ledger table. Every write is a
 * single-item conditional update, so each state change happens once: a review is created once, decided
 * once (the first decision wins; a second sees the condition fail), expired only while still pending,
 * and a request record leaves `pending_review` once.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Attempt, RequestStatus } from '../shared/api-schema';
import { isConditionFailure } from '../shared/dynamo';
import { requestKey } from '../shared/ledger-schema';
import { REVIEW_GSI, REVIEW_PARTITIONS, type ReviewInput, type ReviewStatus, reviewKey } from '../shared/review-schema';

/** A review as stored. */
export interface ReviewItem {
  readonly reviewId: string;
  readonly requestId: string;
  readonly tenantId: string;
  readonly status: ReviewStatus;
  readonly createdAt: string;
  /** What the model was asked (system and messages), for the reviewer. */
  readonly input: ReviewInput;
  readonly attempts: readonly Attempt[];
  readonly proposedAnswer: string;
  readonly confidence: number | null;
  readonly tier: string;
  readonly modelId: string;
  readonly reason?: string;
  /** KMS ciphertext (base64) of the task token: decrypted only by the decision function. */
  readonly tokenCiphertext?: string;
  readonly decidedAt?: string;
  /** Who decided, as the reviewer named themselves. */
  readonly reviewer?: string;
  /** Who decided, as AWS authenticated the call (the IAM principal ARN of the review API caller). */
  readonly reviewerIdentity?: string;
  readonly note?: string;
  /** The edited answer (only for `edited`; an approval releases `proposedAnswer` without copying it). */
  readonly finalAnswer?: string;
  /** True when the reviewer accepted the model's answer unchanged. */
  readonly modelAnswerAccepted?: boolean;
  readonly webhook?: 'delivered' | 'failed';
  /** When the decision (or expiry) was written to the request record. */
  readonly appliedAt?: string;
  /**
   * Set on an expiry under `onTimeout: release_unreviewed` whose answer is nonetheless not released, and why:
   * the review queue was flooded (at its cap, or refusing admissions) during the review's life.
   */
  readonly withheld?: string;
  readonly expiresAt: number;
}

/** The review-related view of a request record. */
export interface RequestForReview {
  readonly requestId: string;
  readonly tenantId: string;
  readonly status: RequestStatus;
  readonly tier: string;
  readonly modelId: string;
  readonly output?: string;
  readonly confidence?: number | null;
  readonly attempts: readonly Attempt[];
  readonly reviewId?: string;
  readonly reviewInput?: ReviewItem['input'];
  readonly cascadeReason?: string;
  readonly expiresAt: number;
}

/**
 * How a review ended, as written to the request record: outcome and time, never who decided or their note
 * (those stay on the review item; the request record is what API-key callers read).
 */
export interface ReviewResolution {
  readonly status: Extract<RequestStatus, 'reviewed' | 'rejected' | 'expired'>;
  readonly output?: string;
  readonly review: {
    readonly reviewId: string;
    readonly outcome: ReviewStatus;
    readonly decidedAt: string;
    /** The model's answer went out without a person's approval (timeout policy `release_unreviewed`). */
    readonly unreviewed?: boolean;
    /** See `ReviewItem.withheld`. */
    readonly withheld?: string;
  };
}

function strip<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, [REVIEW_GSI.partitionKey]: _g1, [REVIEW_GSI.sortKey]: _g2, ...rest } = item;
  return rest as T;
}

/** A page of reviews and the cursor of the next page (opaque, base64url JSON of the last key). */
export interface Page<T> {
  readonly items: T[];
  readonly next?: string;
}

export function makeReviewStore(doc: DynamoDBDocumentClient, tableName: string) {
  async function update(
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
    try {
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
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
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  async function query(partition: string, limit: number, cursor?: string): Promise<Page<ReviewItem>> {
    const res = await doc.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: REVIEW_GSI.name,
        KeyConditionExpression: '#p = :p',
        ExpressionAttributeNames: { '#p': REVIEW_GSI.partitionKey },
        ExpressionAttributeValues: { ':p': partition },
        ScanIndexForward: true,
        Limit: limit,
        ...(cursor ? { ExclusiveStartKey: JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) } : {}),
      }),
    );
    return {
      items: (res.Items ?? []).map((i) => strip<ReviewItem>(i)),
      ...(res.LastEvaluatedKey
        ? { next: Buffer.from(JSON.stringify(res.LastEvaluatedKey)).toString('base64url') }
        : {}),
    };
  }

  /** Request records listed in a sparse partition of the index (hand-offs, decisions to apply) before `before`. */
  async function requestsListedIn(
    partition: string,
    before: string,
    limit: number,
  ): Promise<Array<{ requestId: string; reviewId: string }>> {
    const out: Array<{ requestId: string; reviewId: string }> = [];
    let start: Record<string, unknown> | undefined;
    // Paged, so entries that stay listed for a while (skipped for now) never hide the ones behind them.
    do {
      const res = await doc.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: REVIEW_GSI.name,
          KeyConditionExpression: '#p = :p AND #s < :before',
          ExpressionAttributeNames: { '#p': REVIEW_GSI.partitionKey, '#s': REVIEW_GSI.sortKey },
          ExpressionAttributeValues: { ':p': partition, ':before': before },
          Limit: Math.min(100, limit - out.length),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const i of res.Items ?? []) out.push({ requestId: i.requestId as string, reviewId: i.reviewId as string });
      start = res.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }

  return {
    async getRequest(requestId: string): Promise<RequestForReview | undefined> {
      const res = await doc.send(
        new GetCommand({ TableName: tableName, Key: requestKey(requestId), ConsistentRead: true }),
      );
      return res.Item ? strip<RequestForReview>(res.Item) : undefined;
    },

    async getReview(reviewId: string): Promise<ReviewItem | undefined> {
      const res = await doc.send(
        new GetCommand({ TableName: tableName, Key: reviewKey(reviewId), ConsistentRead: true }),
      );
      return res.Item ? strip<ReviewItem>(res.Item) : undefined;
    },

    /** Creates the pending review unless it exists (a retried step finds it). */
    async createPending(review: ReviewItem): Promise<'created' | 'exists'> {
      try {
        await doc.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              ...reviewKey(review.reviewId),
              ...review,
              [REVIEW_GSI.partitionKey]: REVIEW_PARTITIONS.pending,
              [REVIEW_GSI.sortKey]: `${review.createdAt}#${review.reviewId}`,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return 'created';
      } catch (e) {
        if (isConditionFailure(e)) return 'exists';
        throw e;
      }
    },

    /** Stores the (encrypted) task token of a pending review. */
    saveToken(reviewId: string, tokenCiphertext: string): Promise<boolean> {
      return update(reviewKey(reviewId), { tokenCiphertext }, '#status = :pending', {
        names: { '#status': 'status' },
        values: { ':pending': 'pending' },
      });
    },

    /**
     * Records a decision or an expiry: only from `pending` (and, for a person's decision, only once the
     * workflow is waiting, i.e. the token is stored). Moves the review to the decided partition. A
     * person's decision keeps the encrypted token until the workflow has applied it (`markApplied`), so a
     * resume that failed can be sent again; an expiry or a failure removes it at once.
     */
    decide(
      reviewId: string,
      d: {
        status: Exclude<ReviewStatus, 'pending'>;
        decidedAt: string;
        reviewer?: string;
        reviewerIdentity?: string;
        note?: string;
        finalAnswer?: string;
        modelAnswerAccepted?: boolean;
        withheld?: string;
        requireToken?: boolean;
      },
    ): Promise<boolean> {
      const { requireToken, ...sets } = d;
      return update(
        reviewKey(reviewId),
        {
          ...sets,
          [REVIEW_GSI.partitionKey]: REVIEW_PARTITIONS.decided,
          [REVIEW_GSI.sortKey]: `${d.decidedAt}#${reviewId}`,
        },
        `#status = :pending${requireToken ? ' AND attribute_exists(tokenCiphertext)' : ''}`,
        {
          names: { '#status': 'status' },
          values: { ':pending': 'pending' },
          remove: requireToken ? [] : ['tokenCiphertext'],
        },
      );
    },

    /**
     * Marks a decided review as applied to its request and drops its encrypted task token (the decision API
     * no longer needs it to resume the execution).
     */
    markApplied(reviewId: string, at: string): Promise<boolean> {
      return update(reviewKey(reviewId), { appliedAt: at }, 'attribute_exists(pk) AND #status <> :pending', {
        names: { '#status': 'status' },
        values: { ':pending': 'pending' },
        remove: ['tokenCiphertext'],
      });
    },

    /**
     * Lists a request whose review was just decided (or expired) as waiting for the decision to be applied:
     * a sparse index entry that `resolveRequest` removes. If no execution applies it, the sweeper will.
     */
    markToApply(requestId: string, at: string): Promise<boolean> {
      return update(
        requestKey(requestId),
        { [REVIEW_GSI.partitionKey]: REVIEW_PARTITIONS.apply, [REVIEW_GSI.sortKey]: `${at}#${requestId}` },
        '#status = :pendingReview',
        { names: { '#status': 'status' }, values: { ':pendingReview': 'pending_review' } },
      );
    },

    /** Requests whose review decision was recorded before `before` (ISO time) and is still not applied. */
    listToApply: (before: string, limit: number) => requestsListedIn(REVIEW_PARTITIONS.apply, before, limit),

    setWebhook(reviewId: string, webhook: 'delivered' | 'failed'): Promise<boolean> {
      return update(reviewKey(reviewId), { webhook }, 'attribute_exists(pk)');
    },

    /** Takes a request off the hand-off list: its workflow has started. */
    markHandedOff(requestId: string): Promise<boolean> {
      return update(requestKey(requestId), {}, 'attribute_exists(#gpk)', {
        names: { '#gpk': REVIEW_GSI.partitionKey },
        remove: [REVIEW_GSI.partitionKey, REVIEW_GSI.sortKey],
      });
    },

    /** Requests still waiting for their workflow to start, handed off before `before` (ISO time). */
    listHandOffs: (before: string, limit: number) => requestsListedIn(REVIEW_PARTITIONS.handoff, before, limit),

    /** Moves a request out of `pending_review` (once). */
    resolveRequest(requestId: string, r: ReviewResolution, at: string): Promise<boolean> {
      return update(
        requestKey(requestId),
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
    },

    /**
     * The status and review id of request records, by id, for the sweeper's check of the review queue's open
     * places: single-item reads (the roles may not BatchGetItem), ten at a time, projected. `unread`: ids whose
     * read failed; an id in neither `found` nor `unread` has no record.
     */
    async requestStates(
      requestIds: readonly string[],
    ): Promise<{ found: Map<string, { status: string; reviewId?: string }>; unread: Set<string> }> {
      const found = new Map<string, { status: string; reviewId?: string }>();
      const unread = new Set<string>();
      const ids = [...new Set(requestIds)];
      for (let i = 0; i < ids.length; i += 10) {
        await Promise.all(
          ids.slice(i, i + 10).map(async (id) => {
            try {
              const res = await doc.send(
                new GetCommand({
                  TableName: tableName,
                  Key: requestKey(id),
                  ConsistentRead: true,
                  ProjectionExpression: '#s, reviewId',
                  ExpressionAttributeNames: { '#s': 'status' },
                }),
              );
              if (res.Item) {
                found.set(id, {
                  status: res.Item.status as string,
                  ...(typeof res.Item.reviewId === 'string' ? { reviewId: res.Item.reviewId } : {}),
                });
              }
            } catch {
              unread.add(id);
            }
          }),
        );
      }
      return { found, unread };
    },

    /** Marks a request whose review workflow failed. */
    failRequest(requestId: string, at: string, message: string): Promise<boolean> {
      return update(
        requestKey(requestId),
        { status: 'failed', updatedAt: at, error: { code: 'review_failed', message } },
        '#status = :pendingReview',
        {
          names: { '#status': 'status' },
          values: { ':pendingReview': 'pending_review' },
          remove: [REVIEW_GSI.partitionKey, REVIEW_GSI.sortKey],
        },
      );
    },

    /** The cursor that continues a listing of `partition` right after `item` (for pages cut short). */
    cursorAfter(item: ReviewItem, partition: 'pending' | 'decided'): string {
      const sortTime = partition === 'pending' ? item.createdAt : item.decidedAt;
      const key = {
        ...reviewKey(item.reviewId),
        [REVIEW_GSI.partitionKey]: REVIEW_PARTITIONS[partition],
        [REVIEW_GSI.sortKey]: `${sortTime}#${item.reviewId}`,
      };
      return Buffer.from(JSON.stringify(key)).toString('base64url');
    },

    /** Pending reviews, oldest first. */
    listPending: (limit: number, cursor?: string) => query(REVIEW_PARTITIONS.pending, limit, cursor),
    /** Decided and expired reviews in decision order (the labelled examples). */
    listDecided: (limit: number, cursor?: string) => query(REVIEW_PARTITIONS.decided, limit, cursor),
  };
}

export type ReviewStore = ReturnType<typeof makeReviewStore>;
