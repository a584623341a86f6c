/**
 * In-memory fakes of the review core's ports (lambda/review/core/ports.ts), so the core's unit tests run with
 * no dynalite, KMS or Step Functions stand-in. The store keeps the DynamoDB store's conditions (each state
 * change happens once) and its cursor format; the end-to-end suites check the real adapters.
 */

import {
  type DecisionRecord,
  type ListedRequest,
  type Page,
  type RequestForReview,
  type ReviewItem,
  type ReviewListing,
  type ReviewQueuePlaces,
  type ReviewStore,
  type TaskCallbacks,
  TaskNotWaitingError,
  type TokenCipher,
  type WebhookEvent,
  type WebhookSender,
  type WorkflowStarter,
} from '../../lambda/review/core/ports';
import type { MetricKey } from '../../lambda/shared/metrics';
import { REVIEW_GSI, REVIEW_PARTITIONS, type ReviewExecutionInput, reviewKey } from '../../lambda/shared/review-schema';
import type { LogLevel, Telemetry } from '../../lambda/shared/telemetry';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type StoredRequest = Mutable<RequestForReview> & Record<string, unknown>;
type StoredReview = Mutable<ReviewItem>;

/** A sparse index entry: partition and sort key, as the DynamoDB store writes them. */
interface Listed {
  partition: string;
  sort: string;
}

const clone = <T>(v: T): T => structuredClone(v);

/** `ReviewStore` in memory, with the conditions of the DynamoDB store. */
export class MemoryReviewStore implements ReviewStore {
  readonly reviews = new Map<string, { item: StoredReview; listed?: Listed }>();
  readonly requests = new Map<string, { item: StoredRequest; listed?: Listed }>();
  /** Writes (by method name) that throw instead of happening, for fault tests. */
  readonly failing = new Set<keyof ReviewStore>();

  private fault(method: keyof ReviewStore): void {
    if (this.failing.has(method)) throw Object.assign(new Error(`${method} failed`), { name: 'InternalServerError' });
  }

  /** Seeds a request record (as the inference function leaves it), optionally listed as handed off at `at`. */
  putRequest(item: StoredRequest, handedOffAt?: string): void {
    this.requests.set(item.requestId, {
      item: clone(item),
      ...(handedOffAt
        ? { listed: { partition: REVIEW_PARTITIONS.handoff, sort: `${handedOffAt}#${item.requestId}` } }
        : {}),
    });
  }

  /** The stored request record (a copy). */
  request(requestId: string): StoredRequest | undefined {
    const r = this.requests.get(requestId);
    return r && clone(r.item);
  }

  /** The index partition a request is listed in, if any. */
  requestListing(requestId: string): string | undefined {
    return this.requests.get(requestId)?.listed?.partition;
  }

  async getRequest(requestId: string) {
    return this.request(requestId);
  }

  async getReview(reviewId: string) {
    const r = this.reviews.get(reviewId);
    return r && clone(r.item);
  }

  async createPending(review: ReviewItem) {
    this.fault('createPending');
    if (this.reviews.has(review.reviewId)) return 'exists' as const;
    this.reviews.set(review.reviewId, {
      item: clone(review) as StoredReview,
      listed: { partition: REVIEW_PARTITIONS.pending, sort: `${review.createdAt}#${review.reviewId}` },
    });
    return 'created' as const;
  }

  async saveToken(reviewId: string, tokenCiphertext: string) {
    this.fault('saveToken');
    const r = this.reviews.get(reviewId);
    if (r?.item.status !== 'pending') return false;
    r.item.tokenCiphertext = tokenCiphertext;
    return true;
  }

  async decide(reviewId: string, d: DecisionRecord) {
    this.fault('decide');
    const r = this.reviews.get(reviewId);
    if (r?.item.status !== 'pending' || (d.requireToken && r.item.tokenCiphertext === undefined)) return false;
    const { requireToken, ...sets } = d;
    for (const [k, v] of Object.entries(sets)) if (v !== undefined) (r.item as Record<string, unknown>)[k] = v;
    if (!requireToken) delete r.item.tokenCiphertext;
    r.listed = { partition: REVIEW_PARTITIONS.decided, sort: `${d.decidedAt}#${reviewId}` };
    return true;
  }

  async markApplied(reviewId: string, at: string) {
    this.fault('markApplied');
    const r = this.reviews.get(reviewId);
    if (!r || r.item.status === 'pending') return false;
    r.item.appliedAt = at;
    delete r.item.tokenCiphertext;
    return true;
  }

  async markToApply(requestId: string, at: string) {
    this.fault('markToApply');
    const r = this.requests.get(requestId);
    if (r?.item.status !== 'pending_review') return false;
    r.listed = { partition: REVIEW_PARTITIONS.apply, sort: `${at}#${requestId}` };
    return true;
  }

  private listedIn(partition: string, before: string, limit: number): ListedRequest[] {
    return [...this.requests.values()]
      .filter((r) => r.listed?.partition === partition && r.listed.sort < before)
      .sort((a, b) => a.listed!.sort.localeCompare(b.listed!.sort))
      .slice(0, limit)
      .map((r) => ({ requestId: r.item.requestId, reviewId: String(r.item.reviewId) }));
  }

  async listToApply(before: string, limit: number) {
    return this.listedIn(REVIEW_PARTITIONS.apply, before, limit);
  }

  async setWebhook(reviewId: string, webhook: 'delivered' | 'failed') {
    this.fault('setWebhook');
    const r = this.reviews.get(reviewId);
    if (!r) return false;
    r.item.webhook = webhook;
    return true;
  }

  async markHandedOff(requestId: string) {
    this.fault('markHandedOff');
    const r = this.requests.get(requestId);
    if (!r?.listed) return false;
    delete r.listed;
    return true;
  }

  async listHandOffs(before: string, limit: number) {
    return this.listedIn(REVIEW_PARTITIONS.handoff, before, limit);
  }

  async resolveRequest(requestId: string, res: Parameters<ReviewStore['resolveRequest']>[1], at: string) {
    this.fault('resolveRequest');
    const r = this.requests.get(requestId);
    if (r?.item.status !== 'pending_review') return false;
    Object.assign(r.item, { status: res.status, updatedAt: at, review: clone(res.review) });
    if (res.output !== undefined) r.item.output = res.output;
    else delete r.item.output;
    delete r.item.reviewInput;
    delete r.listed;
    return true;
  }

  async requestStates(requestIds: readonly string[]) {
    const found = new Map<string, { status: string; reviewId?: string }>();
    for (const id of new Set(requestIds)) {
      const r = this.requests.get(id);
      if (r) found.set(id, { status: r.item.status, ...(r.item.reviewId ? { reviewId: r.item.reviewId } : {}) });
    }
    return { found, unread: new Set<string>() };
  }

  async failRequest(requestId: string, at: string, message: string) {
    this.fault('failRequest');
    const r = this.requests.get(requestId);
    if (r?.item.status !== 'pending_review') return false;
    Object.assign(r.item, { status: 'failed', updatedAt: at, error: { code: 'review_failed', message } });
    delete r.listed;
    return true;
  }

  private cursorOf(reviewId: string, partition: string, sort: string): string {
    const key = {
      ...reviewKey(reviewId),
      [REVIEW_GSI.partitionKey]: partition,
      [REVIEW_GSI.sortKey]: sort,
    };
    return Buffer.from(JSON.stringify(key)).toString('base64url');
  }

  cursorAfter(item: ReviewItem, listing: ReviewListing): string {
    const sortTime = listing === 'pending' ? item.createdAt : item.decidedAt;
    return this.cursorOf(item.reviewId, REVIEW_PARTITIONS[listing], `${sortTime}#${item.reviewId}`);
  }

  private page(partition: string, limit: number, cursor?: string): Page<ReviewItem> {
    const after = cursor
      ? (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, string>)[REVIEW_GSI.sortKey]!
      : '';
    const listed = [...this.reviews.values()]
      .filter((r) => r.listed?.partition === partition && r.listed.sort > after)
      .sort((a, b) => a.listed!.sort.localeCompare(b.listed!.sort));
    const items = listed.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map((r) => clone(r.item)),
      ...(listed.length > limit && last
        ? { next: this.cursorOf(last.item.reviewId, partition, last.listed!.sort) }
        : {}),
    };
  }

  listPending = async (limit: number, cursor?: string) => this.page(REVIEW_PARTITIONS.pending, limit, cursor);
  listDecided = async (limit: number, cursor?: string) => this.page(REVIEW_PARTITIONS.decided, limit, cursor);
}

/** A cipher whose ciphertext names its review: one copied to another review does not decrypt. */
export const fakeCipher: TokenCipher = {
  async encrypt(reviewId, token) {
    return Buffer.from(JSON.stringify({ reviewId, token })).toString('base64');
  },
  async decrypt(reviewId, ciphertext) {
    const v = JSON.parse(Buffer.from(ciphertext, 'base64').toString('utf8')) as { reviewId: string; token: string };
    if (v.reviewId !== reviewId)
      throw Object.assign(new Error('wrong context'), { name: 'InvalidCiphertextException' });
    return v.token;
  },
};

/** Waiting tasks by token: resumes and heartbeats are recorded; a token not waiting answers {@link TaskNotWaitingError}. */
export class FakeTasks implements TaskCallbacks {
  readonly waiting = new Set<string>();
  readonly resumed: Array<{ token: string; output: unknown }> = [];
  readonly heartbeats: string[] = [];
  /** The next calls fail with this error (a transient failure), when set. */
  failWith?: Error;

  async success(token: string, output: unknown) {
    if (this.failWith) throw this.failWith;
    if (!this.waiting.delete(token)) throw new TaskNotWaitingError('TaskTimedOut');
    this.resumed.push({ token, output });
  }

  async heartbeat(token: string) {
    if (this.failWith) throw this.failWith;
    if (!this.waiting.has(token)) throw new TaskNotWaitingError('TaskTimedOut');
    this.heartbeats.push(token);
  }
}

/** The review queue: places by review id, the count, the last flood. */
export class FakeQueue implements ReviewQueuePlaces {
  readonly places = new Map<string, { requestId: string; at: number }>();
  floodedAt?: number;
  failRelease = false;

  admit(reviewId: string, requestId: string, at: number): void {
    this.places.set(reviewId, { requestId, at });
  }

  async release(reviewId: string) {
    if (this.failRelease) throw Object.assign(new Error('release failed'), { name: 'InternalServerError' });
    this.places.delete(reviewId);
  }

  async state() {
    return {
      count: this.places.size,
      ...(this.floodedAt !== undefined ? { floodedAt: this.floodedAt } : {}),
      entries: [...this.places].map(([reviewId, p]) => ({ reviewId, ...p })).sort((a, b) => a.at - b.at),
    };
  }
}

/** Workflow starts, recorded; `failing` makes them throw. */
export class FakeHandOff implements WorkflowStarter {
  readonly started: ReviewExecutionInput[] = [];
  failing = false;
  async start(input: ReviewExecutionInput) {
    if (this.failing) throw Object.assign(new Error('start failed'), { name: 'ServiceUnavailable' });
    this.started.push(input);
  }
}

/** Webhook deliveries, recorded; `failWith` names the error to throw. */
export class FakeWebhook implements WebhookSender {
  readonly sent: WebhookEvent[] = [];
  failWith?: 'WebhookFailed' | 'WebhookRefused' | 'WebhookNotConfigured';
  async send(event: WebhookEvent) {
    if (this.failWith) throw Object.assign(new Error('not delivered'), { name: this.failWith });
    this.sent.push(event);
    return { status: 204 };
  }
}

/** Telemetry into arrays (nothing is printed). */
export class FakeTelemetry implements Telemetry {
  readonly logs: Array<{ level: LogLevel; message: string; fields: Record<string, unknown> }> = [];
  readonly metricRecords: Array<Partial<Record<MetricKey, number>>> = [];
  log(level: LogLevel, message: string, fields: Record<string, unknown> = {}) {
    this.logs.push({ level, message, fields });
  }
  metrics(values: Partial<Record<MetricKey, number>>) {
    this.metricRecords.push(values);
  }
  /** The sum of one metric over every record. */
  total(key: MetricKey): number {
    return this.metricRecords.reduce((a, r) => a + (r[key] ?? 0), 0);
  }
}

/** A clock the test moves. */
export class FakeClock {
  constructor(public t = Date.UTC(2026, 10, 1, 12)) {}
  readonly now = () => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}
