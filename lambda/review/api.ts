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
import { type Decision, DecisionSchema, REVIEW_ID_PATTERN } from '../shared/review-schema';
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

function cursorOf(q: Record<string, string | undefined>): string | undefined {
  const c = q.cursor;
  if (c === undefined) return undefined;
  try {
    JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    return c;
  } catch {
    throw new ApiError('invalid_request', 'cursor is not one this API returned; start again without it');
  }
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
            note: r.note ?? null,
            finalAnswer: r.finalAnswer ?? null,
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
    finalAnswer: r.finalAnswer ?? null,
    reviewer: r.reviewer ?? null,
  };
}

export function makeReviewApi(deps: ReviewApiDeps) {
  const { store, cipher, tasks, telemetry } = deps;

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
    const page = await (status === 'pending' ? store.listPending : store.listDecided)(pageSize(q), cursorOf(q));
    return { status: 200, body: { reviews: page.items.map(reviewView), next: page.next ?? null } };
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

  async function decide(reviewId: string, body: unknown): Promise<ApiResult> {
    const parsed = DecisionSchema.safeParse(body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`);
      throw new ApiError('invalid_request', `Invalid decision: ${problems.join('; ')}`);
    }
    const d: Decision = parsed.data;
    const r = await found(reviewId);
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
    if (r.status !== 'pending' || !r.tokenCiphertext) refuse(r);
    const token = await cipher.decrypt(reviewId, r.tokenCiphertext!);
    const decidedAt = new Date(deps.now()).toISOString();
    const status = d.action === 'approve' ? 'approved' : d.action === 'edit' ? 'edited' : 'rejected';
    const recorded = await store.decide(reviewId, {
      status,
      decidedAt,
      reviewer: d.reviewer,
      ...(d.note ? { note: d.note } : {}),
      ...(d.action === 'reject' ? {} : { finalAnswer: d.action === 'edit' ? d.answer : r.proposedAnswer }),
      modelAnswerAccepted: d.action === 'approve',
      requireToken: true,
    });
    if (!recorded) refuse((await store.getReview(reviewId)) ?? r);
    let resumed = true;
    try {
      await tasks.success(token, { action: d.action, reviewer: d.reviewer });
    } catch (e) {
      // The decision is recorded; if the task already timed out, the timeout step applies it (a decision
      // that raced the timeout wins). Any other failure leaves the workflow to pick it up at its timeout.
      resumed = false;
      telemetry.log(TASK_GONE.has((e as Error)?.name) ? 'WARN' : 'ERROR', 'workflow not resumed', {
        reviewId,
        error: (e as Error)?.name,
      });
    }
    return {
      status: resumed ? 200 : 202,
      body: { reviewId, requestId: r.requestId, status, decidedAt, reviewer: d.reviewer, resumed },
    };
  }

  async function exportExamples(q: Record<string, string | undefined>): Promise<ApiResult> {
    const page = await store.listDecided(pageSize({ limit: q.limit ?? String(MAX_PAGE) }), cursorOf(q));
    const lines = page.items
      .filter((r) => r.status === 'approved' || r.status === 'edited' || r.status === 'rejected')
      .map((r) => JSON.stringify(exampleOf(r)));
    return {
      status: 200,
      body: null,
      raw: lines.length ? `${lines.join('\n')}\n` : '',
      headers: { 'content-type': 'application/x-ndjson', ...(page.next ? { 'x-next-cursor': page.next } : {}) },
    };
  }

  return { list, get, decide, exportExamples };
}

export type ReviewApi = ReturnType<typeof makeReviewApi>;
