/**
 * The tenant's review caps on its ledger table (keys in lambda/shared/review-schema.ts): `REVQ#open` holds
 * one attribute per open review (`r_<reviewId>` → `{requestId, at}`) and their `count`; `REVQ#hour#<h>` the
 * reviews admitted in one UTC hour, the same way. Every write is a single-item conditional update (no
 * transactions: dynalite has none):
 *
 * - admit: add the review's attribute and 1 to `count`, only if the attribute is absent and `count` is below
 *   the cap. Open place first, then the hourly one; a refused hourly place gives the open place back.
 * - release: remove the attribute and subtract 1, only if the attribute is there.
 *
 * Because the attribute and the count change in the same update, and only when the attribute's presence says
 * the change has not happened yet, `count` always equals the number of attributes: a retried admission or
 * release (the SDK retrying a write whose response was lost, a hand-off started again, a step run twice)
 * changes nothing. Places whose review ended without a release (a write that failed) are found by the review
 * sweeper, which compares the attributes with the request records.
 *
 * The queue is built on a {@link KeyScope}: a silo tenant's table, or a pooled tenant's `T#<tenant>#` items of its
 * cell's table (key-scope.ts).
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { isConditionFailure } from './dynamo';
import { type KeyScope, SILO_KEY_SCOPE } from './key-scope';
import { LEDGER_KEYS } from './ledger-schema';
import {
  hourOf,
  type OpenReviewEntry,
  type OpenReviewsState,
  openReviewsKey,
  reviewsStartedKey,
} from './review-schema';
import './zod-messages';

/** Prefix of a review's attribute on the queue items. */
const ENTRY_PREFIX = 'r_';
const COUNT = 'count';
/** Epoch ms of the last time the open-reviews cap was reached or an admission was refused. */
const FLOODED_AT = 'floodedAt';
/** An hourly item is kept this long after its hour (then TTL removes it). */
const HOUR_ITEM_KEEP_SECONDS = 24 * 3600;

/** What the queue said about one answer that needs review (the inference core's `ReviewAdmission`). */
export type ReviewAdmission =
  | { readonly result: 'admitted' }
  /** The tenant already has `open` reviews waiting, its cap. */
  | { readonly result: 'queue_full'; readonly open: number }
  /** The tenant has admitted its cap of reviews in the current UTC hour. */
  | { readonly result: 'rate_exceeded' };

/** A review's attribute on the open-reviews item. */
const EntrySchema = z.object({ requestId: z.string(), at: z.number() });
/** The open-reviews item as read (keys and entries; an item not written yet reads as empty). */
const OpenReviewsItemSchema = z.looseObject({
  [COUNT]: z.optional(z.number()),
  [FLOODED_AT]: z.optional(z.number()),
});

/** Parses the open-reviews item: a malformed one is an error naming what is wrong, never a guess. */
function openReviewsOf(item: Record<string, unknown> | undefined): OpenReviewsState {
  const parsed = OpenReviewsItemSchema.safeParse(item ?? {});
  if (!parsed.success) throw malformed(parsed.error.issues);
  const entries: OpenReviewEntry[] = [];
  for (const [k, v] of Object.entries(parsed.data)) {
    if (!k.startsWith(ENTRY_PREFIX)) continue;
    const e = EntrySchema.safeParse(v);
    if (!e.success) throw malformed(e.error.issues, k);
    entries.push({ reviewId: k.slice(ENTRY_PREFIX.length), requestId: e.data.requestId, at: e.data.at });
  }
  return {
    count: parsed.data[COUNT] ?? 0,
    ...(parsed.data[FLOODED_AT] !== undefined ? { floodedAt: parsed.data[FLOODED_AT] } : {}),
    entries: entries.sort((a, b) => a.at - b.at),
  };
}

function malformed(issues: readonly z.core.$ZodIssue[], attribute?: string): Error {
  const where = (i: z.core.$ZodIssue) => [attribute, ...i.path.map(String)].filter(Boolean).join('.') || '(item)';
  const e = new Error(
    `The open-reviews item (${openReviewsKey().pk}) is malformed: ${issues.map((i) => `${where(i)}: ${i.message}`).join('; ')}`,
  );
  e.name = 'MalformedLedgerItem';
  return e;
}

/** The table the queue items are on, and whose items they are. */
interface Ledger {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly scope: KeyScope;
}

/** Adds `reviewId` to an item under `max`; `true` also when it was there already (a repeat). */
async function take(
  t: Ledger,
  key: Record<string, string>,
  reviewId: string,
  value: unknown,
  max: number,
  extraSets: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<{ taken: true; count?: number } | { taken: false; count: number }> {
  const names: Record<string, string> = { '#e': `${ENTRY_PREFIX}${reviewId}`, '#n': COUNT };
  const values: Record<string, unknown> = { ':entry': value, ':one': 1, ':max': max };
  const sets = ['#e = :entry'];
  Object.entries(extraSets).forEach(([k, v], i) => {
    names[`#x${i}`] = k;
    values[`:x${i}`] = v;
    sets.push(`#x${i} = :x${i}`);
  });
  try {
    const res = await t.doc.send(
      new UpdateCommand({
        TableName: t.tableName,
        Key: key,
        UpdateExpression: `SET ${sets.join(', ')} ADD #n :one`,
        ConditionExpression: 'attribute_not_exists(#e) AND (attribute_not_exists(#n) OR #n < :max)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'UPDATED_NEW',
      }),
      { abortSignal: signal },
    );
    return { taken: true, count: res.Attributes?.[COUNT] as number | undefined };
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
    // Full, or this review's place is already there (our own write, retried after its response was lost).
    const res = await t.doc.send(
      new GetCommand({
        TableName: t.tableName,
        Key: key,
        ConsistentRead: true,
        ProjectionExpression: '#e, #n',
        ExpressionAttributeNames: { '#e': names['#e']!, '#n': COUNT },
      }),
      { abortSignal: signal },
    );
    if (res.Item?.[names['#e']!] !== undefined) return { taken: true };
    return { taken: false, count: (res.Item?.[COUNT] as number | undefined) ?? 0 };
  }
}

/** Removes `reviewId` from an item (a no-op when it is not there). */
async function give(t: Ledger, key: Record<string, string>, reviewId: string, signal?: AbortSignal): Promise<void> {
  try {
    await t.doc.send(
      new UpdateCommand({
        TableName: t.tableName,
        Key: key,
        UpdateExpression: 'REMOVE #e ADD #n :minus',
        ConditionExpression: 'attribute_exists(#e)',
        ExpressionAttributeNames: { '#e': `${ENTRY_PREFIX}${reviewId}`, '#n': COUNT },
        ExpressionAttributeValues: { ':minus': -1 },
      }),
      { abortSignal: signal },
    );
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
  }
}

/** Notes that the queue was flooded at `at` (kept as the latest such time; best effort). */
async function markFlooded(t: Ledger, at: number, signal?: AbortSignal): Promise<void> {
  await t.doc
    .send(
      new UpdateCommand({
        TableName: t.tableName,
        Key: openReviewsKey(t.scope),
        UpdateExpression: 'SET #f = :at',
        ConditionExpression: 'attribute_not_exists(#f) OR #f < :at',
        ExpressionAttributeNames: { '#f': FLOODED_AT },
        ExpressionAttributeValues: { ':at': at },
      }),
      { abortSignal: signal },
    )
    .catch(() => undefined);
}

/**
 * The review queue on a shared DocumentClient (created once per container by the caller): the inference
 * function admits reviews, the review steps give places back and sweep (`state`).
 */
export function makeDynamoReviewQueue(
  doc: DynamoDBDocumentClient,
  tableName: string,
  scope: KeyScope = SILO_KEY_SCOPE,
) {
  const t: Ledger = { doc, tableName, scope };
  const openKey = openReviewsKey(scope);
  const queue = {
    async admit(
      slot: { reviewId: string; requestId: string; at: number },
      caps: { maxOpen: number; maxPerHour: number },
      signal?: AbortSignal,
    ): Promise<ReviewAdmission> {
      const open = await take(
        t,
        openKey,
        slot.reviewId,
        { requestId: slot.requestId, at: slot.at },
        caps.maxOpen,
        {},
        signal,
      );
      if (!open.taken) {
        await markFlooded(t, slot.at, signal);
        return { result: 'queue_full', open: open.count };
      }
      if (open.count !== undefined && open.count >= caps.maxOpen) await markFlooded(t, slot.at, signal);
      const hourEnd = Math.floor(slot.at / 3_600_000 + 1) * 3600;
      let hour: Awaited<ReturnType<typeof take>>;
      try {
        hour = await take(
          t,
          reviewsStartedKey(hourOf(slot.at), scope),
          slot.reviewId,
          slot.at,
          caps.maxPerHour,
          { [LEDGER_KEYS.ttlAttribute]: hourEnd + HOUR_ITEM_KEEP_SECONDS },
          signal,
        );
      } catch (e) {
        // The open place goes back (if this fails too, the sweeper finds the place stale).
        await give(t, openKey, slot.reviewId).catch(() => undefined);
        throw e;
      }
      if (!hour.taken) {
        await give(t, openKey, slot.reviewId, signal);
        await markFlooded(t, slot.at, signal);
        return { result: 'rate_exceeded' };
      }
      return { result: 'admitted' };
    },

    async release(reviewId: string, opts: { admittedAt?: number } = {}, signal?: AbortSignal): Promise<void> {
      await give(t, openKey, reviewId, signal);
      if (opts.admittedAt !== undefined) {
        await give(t, reviewsStartedKey(hourOf(opts.admittedAt), scope), reviewId, signal);
      }
    },

    /** The open reviews, their count and the last flood (strongly consistent read). */
    async state(): Promise<OpenReviewsState> {
      const res = await t.doc.send(new GetCommand({ TableName: t.tableName, Key: openKey, ConsistentRead: true }));
      return openReviewsOf(res.Item);
    },
  };
  return queue;
}
