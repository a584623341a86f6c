/**
 * The ledger items the review code reads, parsed at the boundary: a review item, a request record as the
 * review code sees it, and the ids a sparse index entry names. A malformed item is a `MalformedLedgerItem`
 * error that says which item and which attributes, never an undefined value further on.
 *
 * The schemas check; what they return is the item itself (without its key attributes), so nested values keep
 * the order DynamoDB gave them and the review API's answers stay byte-identical.
 */
import * as z from 'zod/mini';
import { REQUEST_STATUSES } from '../../shared/api-schema';
import { REVIEW_GSI, REVIEW_STATUSES } from '../../shared/review-schema';
import '../../shared/zod-messages';
import type { ListedRequest, RequestForReview, ReviewItem } from '../core/ports';

const AttemptSchema = z.looseObject({
  tier: z.string(),
  modelId: z.string(),
  outcome: z.enum(['ok', 'throttled', 'unavailable', 'timeout', 'denied', 'error']),
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number(),
  latencyMs: z.number(),
  confidence: z.optional(z.number()),
  signals: z.optional(z.array(z.string())),
  stopReason: z.optional(z.string()),
  errorCode: z.optional(z.string()),
  reason: z.optional(z.string()),
  guardrailUnits: z.optional(z.record(z.string(), z.number())),
});

const ReviewInputSchema = z.looseObject({
  system: z.optional(z.string()),
  messages: z.array(z.looseObject({ role: z.string(), content: z.string() })),
  omittedChars: z.optional(z.number()),
});

const ReviewItemSchema = z.looseObject({
  reviewId: z.string(),
  requestId: z.string(),
  tenantId: z.string(),
  status: z.enum(REVIEW_STATUSES),
  createdAt: z.string(),
  input: ReviewInputSchema,
  attempts: z.array(AttemptSchema),
  proposedAnswer: z.string(),
  confidence: z.nullable(z.number()),
  tier: z.string(),
  modelId: z.string(),
  reason: z.optional(z.string()),
  routeReason: z.optional(z.string()),
  expiresBy: z.optional(z.string()),
  tokenCiphertext: z.optional(z.string()),
  decidedAt: z.optional(z.string()),
  reviewer: z.optional(z.string()),
  reviewerIdentity: z.optional(z.string()),
  note: z.optional(z.string()),
  finalAnswer: z.optional(z.string()),
  modelAnswerAccepted: z.optional(z.boolean()),
  webhook: z.optional(z.enum(['delivered', 'failed'])),
  appliedAt: z.optional(z.string()),
  withheld: z.optional(z.string()),
  expiresAt: z.number(),
});

const RequestForReviewSchema = z.looseObject({
  requestId: z.string(),
  tenantId: z.string(),
  status: z.enum(REQUEST_STATUSES),
  tier: z.string(),
  modelId: z.string(),
  output: z.optional(z.string()),
  confidence: z.optional(z.nullable(z.number())),
  attempts: z.array(AttemptSchema),
  reviewId: z.optional(z.string()),
  reviewInput: z.optional(ReviewInputSchema),
  cascadeReason: z.optional(z.string()),
  routeReason: z.optional(z.string()),
  expiresAt: z.number(),
});

const ListedRequestSchema = z.looseObject({ requestId: z.string(), reviewId: z.string() });

const RequestStateSchema = z.looseObject({ status: z.string(), reviewId: z.optional(z.unknown()) });

/** A ledger item that does not have the shape its key promises. */
export class MalformedLedgerItemError extends Error {
  constructor(what: string, key: unknown, issues: readonly z.core.$ZodIssue[]) {
    const problems = issues.map((i) => `${i.path.length ? i.path.join('.') : '(item)'}: ${i.message}`);
    super(`Malformed ${what} ${JSON.stringify(key)}: ${problems.join('; ')}`);
    this.name = 'MalformedLedgerItem';
  }
}

/** The item without its table and index key attributes. */
function withoutKeys(item: Record<string, unknown>): Record<string, unknown> {
  const { pk: _pk, sk: _sk, [REVIEW_GSI.partitionKey]: _g1, [REVIEW_GSI.sortKey]: _g2, ...rest } = item;
  return rest;
}

/**
 * Checks `item` against `schema`; returns the item (keys removed) as the type the schema proves. Callers
 * assign the result to the core's type, so a schema that no longer proves it fails to compile.
 */
function checked<S extends z.ZodMiniType>(schema: S, what: string, item: Record<string, unknown>): z.infer<S> {
  const parsed = schema.safeParse(item);
  if (!parsed.success) throw new MalformedLedgerItemError(what, { pk: item.pk, sk: item.sk }, parsed.error.issues);
  return withoutKeys(item) as z.infer<S>;
}

/** A review item as read from the ledger. */
export const reviewItemOf = (item: Record<string, unknown>): ReviewItem =>
  checked(ReviewItemSchema, 'review item', item);

/** A request record as the review code reads it. */
export const requestForReviewOf = (item: Record<string, unknown>): RequestForReview =>
  checked(RequestForReviewSchema, 'request record', item);

/** The ids of a request record listed in a sparse partition of the review index. */
export function listedRequestOf(item: Record<string, unknown>): ListedRequest {
  const { requestId, reviewId } = checked(ListedRequestSchema, 'listed request record', item);
  return { requestId, reviewId };
}

/** The projected status (and review id, when it is a string) of a request record. */
export function requestStateOf(item: Record<string, unknown>): { status: string; reviewId?: string } {
  const { status, reviewId } = checked(RequestStateSchema, 'request record', item);
  return { status, ...(typeof reviewId === 'string' ? { reviewId } : {}) };
}
