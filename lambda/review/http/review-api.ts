/**
 * The review API's use cases as HTTP sees them: query strings and the decision body parsed into the core's
 * inputs, the core's answers turned into a status, headers and a body (the envelope is handler.ts's).
 *
 *   GET  /v1/reviews?status=pending|decided&limit=&cursor=   oldest first, paged
 *   GET  /v1/reviews/{reviewId}                              prompt, attempts with confidence, proposed answer
 *   POST /v1/reviews/{reviewId}/decision                     {action, answer?, reviewer, note?} → resumes the workflow
 *   GET  /v1/reviews/export?limit=&cursor=                   labelled examples as JSONL
 *
 * Reviews live in the tenant's own table, so another tenant's review id is simply not found (404).
 */
import { ApiError } from '../../shared/errors';
import { DecisionSchema } from '../../shared/review-schema';
import { decideReview } from '../core/decision';
import { exportExamples } from '../core/export';
import { DEFAULT_MAX_RESPONSE_BYTES, listReviews, MAX_PAGE, type ReviewReadDeps, showReview } from '../core/listing';
import type { ReviewCoreDeps, TaskCallbacks, TokenCipher } from '../core/ports';

export interface ReviewApiDeps extends ReviewCoreDeps {
  /**
   * Largest response body a listing or export may build (Lambda answers at most 6 MB); a page is cut short
   * to fit and its cursor continues after the last review it holds.
   * @default 5 MiB
   */
  readonly maxResponseBytes?: number;
  readonly cipher: TokenCipher;
  readonly tasks: TaskCallbacks;
}

/** What a route answers, before the envelope. */
export interface ApiResult {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  /** Pre-serialised body (JSONL export). */
  readonly raw?: string;
}

type Query = Record<string, string | undefined>;

function pageSize(q: Query): number {
  const n = q.limit === undefined ? 25 : Number(q.limit);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) {
    throw new ApiError('invalid_request', `limit must be an integer from 1 to ${MAX_PAGE}`);
  }
  return n;
}

export function makeReviewApi(deps: ReviewApiDeps) {
  const read: ReviewReadDeps = { ...deps, maxResponseBytes: deps.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES };

  async function list(q: Query): Promise<ApiResult> {
    const listing = q.status ?? 'pending';
    if (listing !== 'pending' && listing !== 'decided') {
      throw new ApiError('invalid_request', 'status must be "pending" or "decided"');
    }
    const limit = pageSize(q);
    return { status: 200, body: await listReviews(read, { listing, limit, cursor: q.cursor }) };
  }

  async function get(reviewId: string): Promise<ApiResult> {
    return { status: 200, body: await showReview(deps, reviewId) };
  }

  /** `caller`: who AWS authenticated for the call (IAM principal), stored beside the reviewer's own name. */
  async function decide(reviewId: string, body: unknown, caller?: string): Promise<ApiResult> {
    const parsed = DecisionSchema.safeParse(body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`);
      throw new ApiError('invalid_request', `Invalid decision: ${problems.join('; ')}`);
    }
    const outcome = await decideReview(deps, reviewId, parsed.data, caller);
    return { status: outcome.resumed ? 200 : 202, body: outcome };
  }

  async function exportPage(q: Query): Promise<ApiResult> {
    const limit = pageSize({ limit: q.limit ?? String(MAX_PAGE) });
    const page = await exportExamples(read, { limit, cursor: q.cursor });
    return {
      status: 200,
      body: null,
      raw: page.jsonl,
      headers: { 'content-type': 'application/x-ndjson', ...(page.next ? { 'x-next-cursor': page.next } : {}) },
    };
  }

  return { list, get, decide, exportExamples: exportPage };
}

export type ReviewApi = ReturnType<typeof makeReviewApi>;
