/**
 * The human review workflow's shared definitions: ids, ledger keys, statuses, the decision body, the
 * state machine's task actions and the environment variables. Used by the CDK construct
 * (lib/constructs/review), the review handlers and the inference handler's hand-off, so they cannot drift.
 *
 * Ledger items (same table as the requests, see ledger-schema.ts):
 *
 * | item                       | pk              | sk       | gsi1pk            | gsi1sk                  |
 * |----------------------------|-----------------|----------|-------------------|-------------------------|
 * | review, waiting            | `REV#<id>`      | `REVIEW` | `REVIEWS#pending` | `<createdAt>#<id>`      |
 * | review, decided or expired | `REV#<id>`      | `REVIEW` | `REVIEWS#decided` | `<decidedAt>#<id>`      |
 * | request, hand-off pending  | `REQ#<id>`      | `REQUEST`| `HANDOFF#pending` | `<updatedAt>#<id>`      |
 * | open reviews (caps)        | `REVQ#open`     | `REVQ`   |                   |                         |
 * | reviews started in an hour | `REVQ#hour#<h>` | `REVQ`   |                   |                         |
 *
 * The `REVQ#` items enforce the tenant's review caps with single-item conditional writes: one attribute per
 * admitted review (`r_<reviewId>`, so admitting or releasing the same review twice changes nothing) and their
 * count (`count`, the figure the condition checks). `REVQ#open` holds the reviews whose request is still
 * `pending_review` (written by the inference function when it admits one and by the review steps when one
 * ends or the sweeper finds it stale), plus `floodedAt` (epoch ms of the last time the queue was full or an
 * admission was refused); `REVQ#hour#<yyyy-mm-ddThh>` (UTC) the reviews admitted in that hour (inference
 * function only; removed by TTL a day after the hour).
 * The sparse GSI lists pending reviews oldest first, decided reviews (the labelled examples of the
 * flywheel) in decision order, and requests whose workflow has not started yet (the sweeper starts those
 * whose hand-off failed), with no scan.
 *
 * In a pool cell's shared table every `pk` and every `gsi1pk` starts with the tenant's prefix
 * (`T#acme#REV#<id>`, `T#acme#REVIEWS#pending`), given by the adapter's {@link KeyScope} (key-scope.ts): a Query
 * of the index names one tenant's partition, so a tenant-scoped session's `dynamodb:LeadingKeys` condition can
 * limit it to its own. The AWS guide grants item-level access "in a table or a secondary index" with that
 * condition key (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html);
 * it does not say in so many words that the leading key of a Query on an index is the index's partition key
 * (what IAM puts in the request context is not something a local test can check, see the README's list of what
 * is unverified). The silo scope adds nothing.
 */
import * as z from 'zod/mini';
import { type KeyScope, SILO_KEY_SCOPE, scoped } from './key-scope';
import './zod-messages';
import { TIMEOUT_POLICIES } from './tenant-vocabulary';

/**
 * The review id of one run of a request, also the name of its review execution. Derived from the run, so
 * a hand-off retried after a failure starts the same execution; different per run, because Step
 * Functions keeps execution names for 90 days and an idempotency key may come back after its record
 * expired.
 */
export function reviewIdFor(requestId: string, runId: string): string {
  return `rev_${requestId.replace(/^req_/, '')}_${runId}`;
}

/** Review ids as they appear in paths (at most 80 characters: an execution name). */
export const REVIEW_ID_PATTERN = /^rev_[A-Za-z0-9_-]{10,76}$/;

export const REVIEW_STATUSES = ['pending', 'approved', 'edited', 'rejected', 'expired', 'failed'] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];

export const REVIEW_GSI = { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' } as const;
export const REVIEW_PARTITIONS = {
  pending: 'REVIEWS#pending',
  decided: 'REVIEWS#decided',
  /** Request records waiting for their review workflow to start (cleared by its first step). */
  handoff: 'HANDOFF#pending',
  /** Request records whose review is decided but not yet applied to them (cleared when it is). */
  apply: 'APPLY#pending',
} as const;

/** The review index partition `which` under `scope` (`REVIEWS#pending`, `T#acme#REVIEWS#pending`). */
export function reviewPartition(which: keyof typeof REVIEW_PARTITIONS, scope: KeyScope = SILO_KEY_SCOPE): string {
  return scoped(scope, REVIEW_PARTITIONS[which]);
}

/** Key of a review item. */
export function reviewKey(reviewId: string, scope: KeyScope = SILO_KEY_SCOPE) {
  return { pk: scoped(scope, `REV#${reviewId}`), sk: 'REVIEW' };
}

/** Key prefix of the review queue items (`REVQ#open`, `REVQ#hour#<h>`): see the table above. */
const REVIEW_QUEUE_KEY_PREFIX = 'REVQ#';
/** Sort key of the review queue items. */
const REVIEW_QUEUE_SORT_KEY = 'REVQ';

/** Key of the item that holds the tenant's open reviews (those whose request is `pending_review`). */
export function openReviewsKey(scope: KeyScope = SILO_KEY_SCOPE) {
  return { pk: scoped(scope, `${REVIEW_QUEUE_KEY_PREFIX}open`), sk: REVIEW_QUEUE_SORT_KEY };
}

/** Key of the item that counts the reviews admitted in one UTC hour (`hour` is `yyyy-mm-ddThh`). */
export function reviewsStartedKey(hour: string, scope: KeyScope = SILO_KEY_SCOPE) {
  return { pk: scoped(scope, `${REVIEW_QUEUE_KEY_PREFIX}hour#${hour}`), sk: REVIEW_QUEUE_SORT_KEY };
}

/** The UTC hour (`yyyy-mm-ddThh`) an instant belongs to. */
export function hourOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 13);
}

/** One open review as the queue holds it. */
export interface OpenReviewEntry {
  readonly reviewId: string;
  readonly requestId: string;
  /** Epoch ms of its admission. */
  readonly at: number;
}

/** What the open-reviews item says now. */
export interface OpenReviewsState {
  readonly count: number;
  /** Epoch ms of the last time the queue was full or refused an admission, if ever. */
  readonly floodedAt?: number;
  readonly entries: readonly OpenReviewEntry[];
}

/**
 * The largest caps a tenant file may set. Each admitted review is an attribute of about 100 bytes on one item,
 * and DynamoDB items hold at most 400 KB (and every write of the item is billed by its size), so the open-reviews
 * item stays near 100 KB at most.
 */
export const REVIEW_CAP_LIMITS = { maxOpenReviews: 1_000, maxReviewsPerHour: 1_000 } as const;

/** `POST /v1/reviews/{reviewId}/decision` body. */
/** Longest edited answer a decision may carry, in characters. */
const MAX_DECISION_ANSWER_CHARS = 200_000;
/**
 * Largest decision body the review API reads, in bytes: the longest answer and note with every character
 * escaped (`\uXXXX`, 6 bytes), plus 16 KiB for the other fields.
 */
export const MAX_DECISION_BODY_BYTES = 6 * (MAX_DECISION_ANSWER_CHARS + 2_000) + 16 * 1024;

export const DecisionSchema = z
  .strictObject({
    action: z.enum(['approve', 'edit', 'reject']),
    answer: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_DECISION_ANSWER_CHARS))),
    reviewer: z.string().check(z.minLength(1), z.maxLength(200)),
    note: z.optional(z.string().check(z.maxLength(2_000))),
  })
  .check(
    z.superRefine((d, ctx) => {
      if (d.action === 'edit' && d.answer === undefined) {
        ctx.addIssue({ code: 'custom', path: ['answer'], message: 'required when action is "edit"' });
      }
      if (d.action !== 'edit' && d.answer !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['answer'], message: 'only allowed when action is "edit"' });
      }
    }),
  );
export type Decision = z.infer<typeof DecisionSchema>;

/** What the state machine's tasks ask the review steps function to do. */
const REVIEW_STEPS = [
  'recordPending',
  'awaitDecision',
  'applyDecision',
  'applyTimeout',
  'recordFailure',
  'callWebhook',
] as const;
export type ReviewStep = (typeof REVIEW_STEPS)[number];

/** The execution input the inference hand-off sends (never the prompt: that is read from the ledger). */
export interface ReviewExecutionInput {
  readonly tenantId: string;
  readonly requestId: string;
  readonly reviewId: string;
}

/** The error the awaitDecision step throws when it could not store the task token (the state machine retries it). */
export const TOKEN_NOT_SAVED = 'TokenNotSaved';
/** The error the awaitDecision step throws when the review was decided (or closed) before its token was stored. */
export const REVIEW_NOT_PENDING = 'ReviewNotPending';

/** Encryption context of a stored task token: the key policy lets only the review API role decrypt it. */
export const TASK_TOKEN_CONTEXT_KEY = 'switchboard:purpose';
export const TASK_TOKEN_CONTEXT_VALUE = 'review-task-token';

/** Environment variables of the review functions and the inference hand-off. */
export const REVIEW_ENV = {
  stateMachineArn: 'REVIEW_STATE_MACHINE_ARN',
  keyId: 'TENANT_KEY_ID',
  review: 'REVIEW_CONFIG',
  /** The tenant's webhook secret (URL and signing keys): only the steps function gets it, only with a webhook. */
  webhookSecret: 'WEBHOOK_SECRET_ARN',
} as const;

/** What the review functions know of the tenant's review settings (`REVIEW_CONFIG`, JSON). */
export const ReviewRuntimeConfigSchema = z.strictObject({
  tenantId: z.string(),
  onTimeout: z.enum(TIMEOUT_POLICIES),
  /**
   * The webhook's origin from the tenant file (`https://host[:port]`); the full URL, which may carry a secret,
   * is only in the webhook secret.
   */
  webhookOrigin: z.optional(z.string()),
  dataRetentionDays: z.number().check(z.int(), z.positive()),
  /** The state machine's timeout: a review still pending after it has no execution waiting for it. */
  executionTimeoutSeconds: z.number().check(z.int(), z.positive()),
  /**
   * The tenant's cap on open reviews: a review that times out while the queue is (or was, during its life) at
   * this cap is not released unreviewed, whatever `onTimeout` says.
   */
  maxOpenReviews: z.number().check(z.int(), z.positive()),
});
export type ReviewRuntimeConfig = z.infer<typeof ReviewRuntimeConfigSchema>;

/** How long the review state machine may run past the review timeout (its own timeout's margin). */
export const REVIEW_EXECUTION_MARGIN_MINUTES = 30;

/**
 * The tenant's review timeout (`escalation.reviewTimeoutMinutes`) in seconds: the execution timeout less its
 * margin (see toReviewRuntimeConfig in tenant-file/runtime-config.ts).
 */
export function reviewTimeoutSeconds(config: Pick<ReviewRuntimeConfig, 'executionTimeoutSeconds'>): number {
  return config.executionTimeoutSeconds - REVIEW_EXECUTION_MARGIN_MINUTES * 60;
}

/**
 * How long a pooled tenant's review waits in the cell's shared state machine, in seconds: the task timeout and
 * heartbeat of its `AwaitDecision` state (`TimeoutSecondsPath`/`HeartbeatSecondsPath`), which the cell's
 * `RecordPending` step answers from the tenant's registry item (a silo tenant's are fixed in its own template).
 */
export const ReviewAwaitSecondsSchema = z.strictObject({
  timeout: z.number().check(z.int(), z.positive()),
  heartbeat: z.number().check(z.int(), z.positive()),
});
export type ReviewAwaitSeconds = z.infer<typeof ReviewAwaitSecondsSchema>;

/** A pooled tenant's review settings, as its registry item holds them (`review`): the control plane writes them. */
export const PooledReviewSettingsSchema = z.strictObject({
  config: ReviewRuntimeConfigSchema,
  awaitSeconds: ReviewAwaitSecondsSchema,
});
export type PooledReviewSettings = z.infer<typeof PooledReviewSettingsSchema>;

/**
 * Where a pool cell's state machine reads a review's wait times: the result of its `RecordPending` step (the steps
 * function adds the tenant's {@link ReviewAwaitSeconds} to it).
 */
export const POOLED_AWAIT_SECONDS_PATH = {
  timeout: '$.recordPending.result.awaitSeconds.timeout',
  heartbeat: '$.recordPending.result.awaitSeconds.heartbeat',
} as const;

/** What a reviewer is shown of the request: its system text and messages. */
export interface ReviewInput {
  readonly system?: string;
  readonly messages: ReadonlyArray<{ readonly role: string; readonly content: string }>;
  /** Characters left out of the copy (middles of the longest texts), when it had to be shortened. */
  readonly omittedChars?: number;
}

/**
 * Largest review copy of a request's input, in UTF-8 bytes. The copy is stored on the request record and on
 * the review item, and a DynamoDB item holds at most 400 KB
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items), attribute
 * names and values included. A prompt may be 220,000 characters, up to 660 KB in UTF-8, so the copy is bounded:
 * 150 KB leaves room for the answer, the attempts and a reviewer's edit (which the review API bounds too).
 */
export const MAX_REVIEW_INPUT_BYTES = 150 * 1024;

/** UTF-8 length of a string, in one pass. */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Length (in UTF-16 units) of the longest prefix of `s` that fits `maxBytes` of UTF-8 and ends on a character. */
function prefixFitting(s: string, maxBytes: number): number {
  let bytes = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length;
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > maxBytes) break;
    bytes += size;
    i += pair ? 2 : 1;
  }
  return i;
}

/** Length (in UTF-16 units) of the longest suffix of `s` that fits `maxBytes` of UTF-8 and starts on a character. */
function suffixFitting(s: string, maxBytes: number): number {
  let bytes = 0;
  let i = s.length;
  while (i > 0) {
    const c = s.charCodeAt(i - 1);
    const pair = c >= 0xdc00 && c <= 0xdfff && i >= 2;
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > maxBytes) break;
    bytes += size;
    i -= pair ? 2 : 1;
  }
  return s.length - i;
}

/** Keeps the start and the end of `text` within `maxBytes`, saying in the middle how much was left out. */
function headAndTail(text: string, maxBytes: number): { text: string; omitted: number } {
  const marker = (n: number) => `\n[… ${n} characters left out of the review copy …]\n`;
  const room = Math.max(0, maxBytes - utf8Bytes(marker(text.length)));
  const head = prefixFitting(text, Math.floor(room / 2));
  const tail = suffixFitting(text.slice(head), room - utf8Bytes(text.slice(0, head)));
  const omitted = text.length - head - tail;
  return { text: `${text.slice(0, head)}${marker(omitted)}${text.slice(text.length - tail)}`, omitted };
}

/**
 * The review copy of a request's input, at most `maxBytes` of UTF-8 text: unchanged when it fits; otherwise
 * the texts that are larger than an even share keep their start and end (water-filling: short texts stay
 * whole, the rest share what is left), and `omittedChars` says how much the reviewer does not see.
 * Linear in the input's length.
 */
export function boundReviewInput(
  input: { readonly system?: string; readonly messages: ReadonlyArray<{ role: string; content: string }> },
  maxBytes = MAX_REVIEW_INPUT_BYTES,
): ReviewInput {
  const texts = [...(input.system !== undefined ? [input.system] : []), ...input.messages.map((m) => m.content)];
  const sizes = texts.map(utf8Bytes);
  if (sizes.reduce((a, b) => a + b, 0) <= maxBytes) return input;
  // Each text's share: sizes ascending, the smaller ones whole, an even share of the rest for the others.
  const order = sizes.map((_, i) => i).sort((a, b) => sizes[a]! - sizes[b]!);
  const caps = new Array<number>(texts.length);
  let left = maxBytes;
  order.forEach((idx, rank) => {
    const share = Math.floor(left / (order.length - rank));
    caps[idx] = Math.min(sizes[idx]!, share);
    left -= caps[idx]!;
  });
  let omittedChars = 0;
  const bounded = texts.map((t, i) => {
    if (sizes[i]! <= caps[i]!) return t;
    const cut = headAndTail(t, caps[i]!);
    omittedChars += cut.omitted;
    return cut.text;
  });
  const system = input.system !== undefined ? bounded.shift() : undefined;
  return {
    ...(system !== undefined ? { system } : {}),
    messages: input.messages.map((m, i) => ({ role: m.role, content: bounded[i]! })),
    omittedChars,
  };
}
