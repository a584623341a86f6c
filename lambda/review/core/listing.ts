/**
 * Listing and showing reviews: pages of the pending or decided listing (oldest first), cut short so a page
 * fits the response, with a cursor that only this API can have returned; one review, whose opening is the
 * workflow's heartbeat.
 */
import { ApiError } from '../../shared/errors';
import { REVIEW_GSI, REVIEW_ID_PATTERN, REVIEW_PARTITIONS } from '../../shared/review-schema';
import {
  errorName,
  type Page,
  type ReviewCoreDeps,
  type ReviewItem,
  type ReviewListing,
  type TaskCallbacks,
  type TokenCipher,
} from './ports';
import { type ReviewView, reviewView } from './views';

/** Largest page a listing or export may ask for. */
export const MAX_PAGE = 100;
/** Default largest response body (Lambda answers at most 6 MB). */
export const DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024;

/** What the listing, showing and export use cases get. */
export interface ReviewReadDeps extends ReviewCoreDeps {
  /**
   * Largest response body a listing or export may build; a page is cut short to fit and its cursor
   * continues after the last review it holds.
   */
  readonly maxResponseBytes: number;
}

/** The key attributes of a review in the listing index: what a cursor this API returned holds. */
const CURSOR_KEYS = ['pk', 'sk', REVIEW_GSI.partitionKey, REVIEW_GSI.sortKey].sort();

/**
 * Checks a paging cursor: base64url JSON of exactly the index key this API returned for `listing`.
 * Anything else (edited, truncated, from another listing) is `invalid_request`, never a DynamoDB error.
 */
export function checkedCursor(cursor: string | undefined, listing: ReviewListing): string | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
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
    k[REVIEW_GSI.partitionKey] === REVIEW_PARTITIONS[listing];
  if (!valid) throw new ApiError('invalid_request', 'cursor is not one this API returned; start again without it');
  return cursor;
}

/** Bytes of a text as Lambda sends it: the body is a string inside the proxy response, so it is escaped again. */
export const escapedBytes = (text: string) => Buffer.byteLength(JSON.stringify(text), 'utf8');

/** Keeps the page's first items whose serialised size fits the response (always at least one). */
export function fitToResponse<T>(
  deps: ReviewReadDeps,
  page: Page<ReviewItem>,
  listing: ReviewListing,
  render: (r: ReviewItem) => T,
  sizeOf: (v: T) => number,
): { items: T[]; next?: string } {
  const out: T[] = [];
  let bytes = 1024; // envelope
  for (const [i, r] of page.items.entries()) {
    const v = render(r);
    bytes += sizeOf(v) + 1;
    if (bytes > deps.maxResponseBytes && i > 0) {
      return { items: out, next: deps.store.cursorAfter(page.items[i - 1]!, listing) };
    }
    out.push(v);
  }
  return { items: out, ...(page.next ? { next: page.next } : {}) };
}

/** A page of a listing. */
export async function listReviews(
  deps: ReviewReadDeps,
  q: { listing: ReviewListing; limit: number; cursor?: string },
): Promise<{ reviews: ReviewView[]; next: string | null }> {
  const cursor = checkedCursor(q.cursor, q.listing);
  const page =
    q.listing === 'pending'
      ? await deps.store.listPending(q.limit, cursor)
      : await deps.store.listDecided(q.limit, cursor);
  const fitted = fitToResponse(deps, page, q.listing, reviewView, (v) => escapedBytes(JSON.stringify(v)));
  return { reviews: fitted.items, next: fitted.next ?? null };
}

/** The review `reviewId` names, or `not_found` (also for an id that is not a review id). */
export async function foundReview(deps: ReviewCoreDeps, reviewId: string): Promise<ReviewItem> {
  const r = REVIEW_ID_PATTERN.test(reviewId) ? await deps.store.getReview(reviewId) : undefined;
  if (!r) throw new ApiError('not_found', `No review "${reviewId}" for this tenant`);
  return r;
}

/** One review; opening a pending one is the workflow's heartbeat: somebody is looking at it. */
export async function showReview(
  deps: ReviewCoreDeps & { readonly cipher: TokenCipher; readonly tasks: TaskCallbacks },
  reviewId: string,
): Promise<ReviewView> {
  const r = await foundReview(deps, reviewId);
  // See reviewHeartbeatMinutes.
  if (r.status === 'pending' && r.tokenCiphertext) {
    try {
      await deps.tasks.heartbeat(await deps.cipher.decrypt(reviewId, r.tokenCiphertext));
    } catch (e) {
      deps.telemetry.log('WARN', 'review heartbeat not sent', { reviewId, error: errorName(e) });
    }
  }
  return reviewView(r);
}
