/**
 * The review API (behind IAM authorization: a credential separate from the tenant's inference key):
 *
 *   GET  /v1/reviews?status=pending|decided&limit=&cursor=   oldest first, paged
 *   GET  /v1/reviews/{reviewId}                              prompt, attempts with confidence, proposed answer
 *   POST /v1/reviews/{reviewId}/decision                     {action, answer?, reviewer, note?} → resumes the workflow
 *   GET  /v1/reviews/export?limit=&cursor=                   labelled examples as JSONL
 *
 * A decision is recorded first (conditional: only a pending review whose workflow is waiting), then the
 * workflow is resumed with the task token, which only this function can decrypt. The first decision wins;
 * a second is 409 `review_decided`, a decision after the timeout 409 `review_expired`. Reviews live in the
 * tenant's own table, so another tenant's review id is simply not found (404).
 */
import { ApiError } from '../shared/errors';
import {
  type Decision,
  DecisionSchema,
  REVIEW_GSI,
  REVIEW_ID_PATTERN,
  REVIEW_PARTITIONS,
} from '../shared/review-schema';
import type { Telemetry } from '../shared/telemetry';
import type { ReviewItem, ReviewStore } from './store';
import type { TokenCipher } from './token-cipher';

/** Resumes a waiting task (Step Functions SendTaskSuccess / SendTaskHeartbeat). */
export interface TaskCallbacks {
  success(token: string, output: unknown): Promise<void>;
  heartbeat(token: string): Promise<void>;
}

/** Errors Step Functions answers when the task is no longer waiting. */
const TASK_GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export interface ReviewApiDeps {
  /**
   * Largest response body a listing or export may build (Lambda answers at most 6 MB); a page is cut short
   * to fit and its cursor continues after the last review it holds.
   * @default 5 MiB
   */
  readonly maxResponseBytes?: number;
  readonly store: ReviewStore;
  readonly cipher: TokenCipher;
  readonly tasks: TaskCallbacks;
  readonly telemetry: Telemetry;
  readonly now: () => number;
}

export interface ApiResult {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  /** Pre-serialised body (JSONL export). */
  readonly raw?: string;
}

const MAX_PAGE = 100;

function pageSize(q: Record<string, string | undefined>): number {
  const n = q.limit === undefined ? 25 : Number(q.limit);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) {
    throw new ApiError('invalid_request', `limit must be an integer from 1 to ${MAX_PAGE}`);
  }
  return n;
}

/** The key attributes of a review in the listing index: what a cursor this API returned holds. */
const CURSOR_KEYS = ['pk', 'sk', REVIEW_GSI.partitionKey, REVIEW_GSI.sortKey].sort();

/**
 * Checks a paging cursor: base64url JSON of exactly the index key this API returned for `partition`.
 * Anything else (edited, truncated, from another listing) is a 400, never a DynamoDB error.
 */
function cursorOf(q: Record<string, string | undefined>, partition: string): string | undefined {
  const c = q.cursor;
  if (c === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const k = key as Record<string, unknown> | undefined;
  const valid =
    !!k &&
    typeof k === 'object' &&
    !Array.isArray(k) &&
    JSON.stringify(Object.keys(k).sort()) === JSON.stringify(CURSOR_KEYS) &&
    Object.values(k).every((v) => typeof v === 'string' && v.length > 0 && v.length <= 200) &&
    k[REVIEW_GSI.partitionKey] === partition;
  if (!valid) throw new ApiError('invalid_request', 'cursor is not one this API returned; start again without it');
  return c;
}

/** Largest review item the decision may leave (DynamoDB's item limit is 400 KB; keep room for attributes). */
const MAX_REVIEW_ITEM_BYTES = 380 * 1024;

/** A decision write that failed (it may or may not have landed): sending the same decision again is safe. */
function notRecorded(e: unknown): never {
  throw new ApiError(
    'ledger_unavailable',
    `The decision could not be recorded (${(e as Error)?.name ?? 'Error'}); send the same decision again in a few seconds`,
    2,
  );
}

/** The answer a decision released: the edit, the model's answer when approved, none otherwise. */
function finalAnswerOf(r: ReviewItem): string | null {
  if (r.status === 'edited') return r.finalAnswer ?? null;
  if (r.status === 'approved') return r.proposedAnswer;
  return null;
}

/** What a reviewer sees (never the task token). */
export function reviewView(r: ReviewItem) {
  return {
    reviewId: r.reviewId,
    requestId: r.requestId,
    status: r.status,
    createdAt: r.createdAt,
    input: r.input,
    attempts: r.attempts,
    proposedAnswer: r.proposedAnswer,
    confidence: r.confidence,
    tier: r.tier,
    modelId: r.modelId,
    reason: r.reason ?? null,
    decision:
      r.status === 'pending'
        ? null
        : {
            decidedAt: r.decidedAt ?? null,
            reviewer: r.reviewer ?? null,
            reviewerIdentity: r.reviewerIdentity ?? null,
            note: r.note ?? null,
            finalAnswer: finalAnswerOf(r),
          },
  };
}

/** One labelled example of the flywheel (a person's decision on a model answer). */
export function exampleOf(r: ReviewItem) {
  return {
    reviewId: r.reviewId,
    requestId: r.requestId,
    createdAt: r.createdAt,
    decidedAt: r.decidedAt ?? null,
    label: r.status,
    modelAnswerAccepted: r.modelAnswerAccepted ?? false,
    input: r.input,
    attempts: r.attempts,
    proposedAnswer: r.proposedAnswer,
    finalAnswer: finalAnswerOf(r),
    reviewer: r.reviewer ?? null,
  };
}

export function makeReviewApi(deps: ReviewApiDeps) {
  const { store, cipher, tasks, telemetry } = deps;
  const maxBytes = deps.maxResponseBytes ?? 5 * 1024 * 1024;

  /** Keeps the page's first items whose serialised size fits the response (always at least one). */
  function fitToResponse<T>(
    page: { items: ReviewItem[]; next?: string },
    partition: 'pending' | 'decided',
    render: (r: ReviewItem) => T,
    sizeOf: (v: T) => number,
  ): { items: T[]; next?: string } {
    const out: T[] = [];
    let bytes = 1024; // envelope
    for (const [i, r] of page.items.entries()) {
      const v = render(r);
      bytes += sizeOf(v) + 1;
      if (bytes > maxBytes && i > 0) return { items: out, next: store.cursorAfter(page.items[i - 1]!, partition) };
      out.push(v);
    }
    return { items: out, ...(page.next ? { next: page.next } : {}) };
  }
  // Measured as Lambda sends it: the body is a string inside the proxy response, so it is escaped again.
  const escapedBytes = (text: string) => Buffer.byteLength(JSON.stringify(text), 'utf8');
  const jsonBytes = (v: unknown) => escapedBytes(JSON.stringify(v));

  async function found(reviewId: string): Promise<ReviewItem> {
    const r = REVIEW_ID_PATTERN.test(reviewId) ? await store.getReview(reviewId) : undefined;
    if (!r) throw new ApiError('not_found', `No review "${reviewId}" for this tenant`);
    return r;
  }

  async function list(q: Record<string, string | undefined>): Promise<ApiResult> {
    const status = q.status ?? 'pending';
    if (status !== 'pending' && status !== 'decided') {
      throw new ApiError('invalid_request', 'status must be "pending" or "decided"');
    }
    const page = await (status === 'pending' ? store.listPending : store.listDecided)(
      pageSize(q),
      cursorOf(q, status === 'pending' ? REVIEW_PARTITIONS.pending : REVIEW_PARTITIONS.decided),
    );
    const fitted = fitToResponse(page, status, reviewView, jsonBytes);
    return { status: 200, body: { reviews: fitted.items, next: fitted.next ?? null } };
  }

  async function get(reviewId: string): Promise<ApiResult> {
    const r = await found(reviewId);
    // Opening a pending review is the heartbeat: somebody is looking at it (see reviewHeartbeatMinutes).
    if (r.status === 'pending' && r.tokenCiphertext) {
      try {
        await tasks.heartbeat(await cipher.decrypt(reviewId, r.tokenCiphertext));
      } catch (e) {
        telemetry.log('WARN', 'review heartbeat not sent', { reviewId, error: (e as Error)?.name });
      }
    }
    return { status: 200, body: reviewView(r) };
  }

  /**
   * Records a person's decision, then resumes the workflow with it. The decision is the commit point: the
   * encrypted token stays on the decided review until the workflow applied it, so when resuming fails
   * the same decision can simply be sent again (it resumes, and answers as the first did); a different
   * decision is 409. `caller` is who AWS authenticated for the call (IAM principal), stored beside the
   * reviewer's own name.
   */
  async function decide(reviewId: string, body: unknown, caller?: string): Promise<ApiResult> {
    const parsed = DecisionSchema.safeParse(body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`);
      throw new ApiError('invalid_request', `Invalid decision: ${problems.join('; ')}`);
    }
    const d: Decision = parsed.data;
    let r = await found(reviewId);
    const status = d.action === 'approve' ? 'approved' : d.action === 'edit' ? 'edited' : 'rejected';
    const refuse = (cur: ReviewItem): never => {
      if (cur.status === 'expired') {
        throw new ApiError(
          'review_expired',
          `Review ${reviewId} expired at ${cur.decidedAt} before a decision; it can no longer be decided`,
        );
      }
      if (cur.status === 'pending') {
        throw new ApiError(
          'review_not_ready',
          `Review ${reviewId} is not yet waiting for a decision; retry in a few seconds`,
          2,
        );
      }
      throw new ApiError(
        'review_decided',
        `Review ${reviewId} was already decided (${cur.status} by ${cur.reviewer ?? 'the workflow'} at ${cur.decidedAt})`,
      );
    };
    /** The same decision sent again (a retry after a lost or failed response). */
    const isThisDecision = (cur: ReviewItem) =>
      cur.status === status &&
      cur.reviewer === d.reviewer &&
      (cur.note ?? undefined) === (d.note || undefined) &&
      (cur.finalAnswer ?? undefined) === (d.action === 'edit' ? d.answer : undefined);

    if (r.status === 'pending' && r.tokenCiphertext) {
      if (d.action === 'edit') {
        // The edit lands on the review item (beside the prompt and the proposed answer) and on the record.
        const bytes = Buffer.byteLength(JSON.stringify(r), 'utf8') + Buffer.byteLength(d.answer ?? '', 'utf8');
        if (bytes > MAX_REVIEW_ITEM_BYTES) {
          throw new ApiError(
            'payload_too_large',
            `The edited answer is too large to store with this review (${Math.ceil(bytes / 1024)} KB with the prompt and attempts; at most ${MAX_REVIEW_ITEM_BYTES / 1024} KB); shorten it`,
          );
        }
      }
      // First list the request as waiting for a decision to be applied: the safety net if no execution
      // applies it (stopped, or failing to write). Written before the decision, so a decision is never
      // recorded without it; a listed request whose review is still pending is simply skipped.
      const decidedAt = new Date(deps.now()).toISOString();
      try {
        await store.markToApply(r.requestId, decidedAt);
      } catch (e) {
        throw new ApiError(
          'ledger_unavailable',
          `The decision could not be recorded (${(e as Error)?.name ?? 'Error'}); nothing changed, send it again in a few seconds`,
          2,
        );
      }
      const recorded = await store
        .decide(reviewId, {
          status,
          decidedAt,
          reviewer: d.reviewer,
          ...(caller ? { reviewerIdentity: caller } : {}),
          ...(d.note ? { note: d.note } : {}),
          ...(d.action === 'edit' ? { finalAnswer: d.answer } : {}),
          modelAnswerAccepted: d.action === 'approve',
          requireToken: true,
        })
        .catch(notRecorded);
      const cur = await store.getReview(reviewId);
      if (!cur) throw new ApiError('not_found', `No review "${reviewId}" for this tenant`);
      if (!recorded && !isThisDecision(cur)) refuse(cur);
      r = cur;
    } else if (!isThisDecision(r)) {
      refuse(r);
    }

    let resumed = true;
    if (r.tokenCiphertext) {
      try {
        await tasks.success(await cipher.decrypt(reviewId, r.tokenCiphertext), {
          action: d.action,
          reviewer: d.reviewer,
        });
      } catch (e) {
        const gone = TASK_GONE.has((e as Error)?.name);
        // Gone: the task timed out (the timeout step applies this decision: a decision that raced the
        // timeout wins) or a resume sent earlier went through. Otherwise: send the same decision again.
        resumed = gone;
        telemetry.log(gone ? 'WARN' : 'ERROR', 'workflow not resumed', { reviewId, error: (e as Error)?.name });
      }
    }
    const answer = {
      reviewId,
      requestId: r.requestId,
      status,
      decidedAt: r.decidedAt,
      reviewer: d.reviewer,
      resumed,
      ...(resumed
        ? {}
        : { retry: 'the decision is recorded but the workflow was not resumed; send the same decision again' }),
    };
    return { status: resumed ? 200 : 202, body: answer };
  }

  async function exportExamples(q: Record<string, string | undefined>): Promise<ApiResult> {
    const page = await store.listDecided(
      pageSize({ limit: q.limit ?? String(MAX_PAGE) }),
      cursorOf(q, REVIEW_PARTITIONS.decided),
    );
    const labelled = (r: ReviewItem) => r.status === 'approved' || r.status === 'edited' || r.status === 'rejected';
    const fitted = fitToResponse(
      page,
      'decided',
      (r) => (labelled(r) ? JSON.stringify(exampleOf(r)) : ''),
      (line) => escapedBytes(line),
    );
    const lines = fitted.items.filter((l) => l !== '');
    return {
      status: 200,
      body: null,
      raw: lines.length ? `${lines.join('\n')}\n` : '',
      headers: { 'content-type': 'application/x-ndjson', ...(fitted.next ? { 'x-next-cursor': fitted.next } : {}) },
    };
  }

  return { list, get, decide, exportExamples };
}

export type ReviewApi = ReturnType<typeof makeReviewApi>;
