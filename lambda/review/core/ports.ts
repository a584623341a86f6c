/**
 * The review core's view of the world: the domain types it works on and the ports it calls. Adapters
 * (lambda/review/adapters) implement the ports on DynamoDB, KMS, Step Functions and the webhook network;
 * test/support/review-fakes.ts implements them in memory. Nothing here knows AWS or HTTP.
 */
import type { Attempt, RequestStatus } from '../../shared/api-schema';
import type {
  OpenReviewsState,
  ReviewExecutionInput,
  ReviewInput,
  ReviewRuntimeConfig,
  ReviewStatus,
} from '../../shared/review-schema';
import type { Telemetry } from '../../shared/telemetry';

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
  /** Why the request was routed to its first tier (the request record's `routeReason`). */
  readonly routeReason?: string;
  /**
   * When the review expires if nobody decides (ISO 8601): its creation plus the tenant's review timeout
   * (`escalation.reviewTimeoutMinutes`). It expires earlier when nobody opens it for the heartbeat time.
   */
  readonly expiresBy?: string;
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
  readonly reviewInput?: ReviewInput;
  readonly cascadeReason?: string;
  readonly routeReason?: string;
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

/** A decision or an expiry as the store records it on a pending review. */
export interface DecisionRecord {
  readonly status: Exclude<ReviewStatus, 'pending'>;
  readonly decidedAt: string;
  readonly reviewer?: string;
  readonly reviewerIdentity?: string;
  readonly note?: string;
  readonly finalAnswer?: string;
  readonly modelAnswerAccepted?: boolean;
  readonly withheld?: string;
  /** A person's decision: only once the workflow waits (its token is stored), and the token is kept. */
  readonly requireToken?: boolean;
}

/** A page of reviews and the cursor of the next page (opaque, base64url JSON of the last key). */
export interface Page<T> {
  readonly items: T[];
  readonly next?: string;
}

/** A request record listed in a sparse partition of the review index (hand-offs, decisions to apply). */
export interface ListedRequest {
  readonly requestId: string;
  readonly reviewId: string;
}

/** The two review listings. */
export type ReviewListing = 'pending' | 'decided';

/**
 * Review items and the review side of request records. Every write is conditional and answers whether it
 * changed anything (`false`: its condition did not hold), so each state change happens once.
 */
export interface ReviewStore {
  getRequest(requestId: string): Promise<RequestForReview | undefined>;
  getReview(reviewId: string): Promise<ReviewItem | undefined>;
  /** Creates the pending review unless it exists (a retried step finds it). */
  createPending(review: ReviewItem): Promise<'created' | 'exists'>;
  /** Stores the (encrypted) task token of a pending review. */
  saveToken(reviewId: string, tokenCiphertext: string): Promise<boolean>;
  /**
   * Records a decision or an expiry: only from `pending` (and, for a person's decision, only once the
   * workflow is waiting, i.e. the token is stored). A person's decision keeps the encrypted token until the
   * workflow has applied it (`markApplied`); an expiry or a failure removes it at once.
   */
  decide(reviewId: string, d: DecisionRecord): Promise<boolean>;
  /** Marks a decided review as applied to its request and drops its encrypted task token. */
  markApplied(reviewId: string, at: string): Promise<boolean>;
  /** Lists a pending-review request as waiting for its review's decision to be applied (the safety net). */
  markToApply(requestId: string, at: string): Promise<boolean>;
  /** Requests whose review decision was recorded before `before` (ISO time) and is still not applied. */
  listToApply(before: string, limit: number): Promise<ListedRequest[]>;
  setWebhook(reviewId: string, webhook: 'delivered' | 'failed'): Promise<boolean>;
  /** Takes a request off the hand-off list: its workflow has started. */
  markHandedOff(requestId: string): Promise<boolean>;
  /** Requests still waiting for their workflow to start, handed off before `before` (ISO time). */
  listHandOffs(before: string, limit: number): Promise<ListedRequest[]>;
  /** Moves a request out of `pending_review` (once). */
  resolveRequest(requestId: string, r: ReviewResolution, at: string): Promise<boolean>;
  /**
   * The status and review id of request records, by id. `unread`: ids whose read failed; an id in neither
   * `found` nor `unread` has no record.
   */
  requestStates(
    requestIds: readonly string[],
  ): Promise<{ found: Map<string, { status: string; reviewId?: string }>; unread: Set<string> }>;
  /** Marks a request whose review workflow failed (only while it is `pending_review`). */
  failRequest(requestId: string, at: string, message: string): Promise<boolean>;
  /** The cursor that continues a listing right after `item` (for pages cut short). */
  cursorAfter(item: ReviewItem, listing: ReviewListing): string;
  /** Pending reviews, oldest first. */
  listPending(limit: number, cursor?: string): Promise<Page<ReviewItem>>;
  /** Decided and expired reviews in decision order (the labelled examples). */
  listDecided(limit: number, cursor?: string): Promise<Page<ReviewItem>>;
}

/** Task tokens at rest: encrypted for one review (a ciphertext copied to another review does not decrypt). */
export interface TokenCipher {
  encrypt(reviewId: string, token: string): Promise<string>;
  decrypt(reviewId: string, ciphertext: string): Promise<string>;
}

/**
 * Resumes a waiting task. Throws {@link TaskNotWaitingError} when the task no longer waits (timed out, or already
 * resumed); any other error may pass on a retry.
 */
export interface TaskCallbacks {
  success(token: string, output: unknown): Promise<void>;
  heartbeat(token: string): Promise<void>;
}

/** The task of a token is no longer waiting: it timed out, or a resume sent earlier went through. */
export class TaskNotWaitingError extends Error {
  constructor(
    /** What the workflow service said (its error name). */
    readonly reason: string,
  ) {
    super(`The task is no longer waiting (${reason})`);
    this.name = 'TaskNotWaitingError';
  }
}

/** One webhook event to deliver. */
export interface WebhookEvent {
  /** The same on every retry of the event (receivers deduplicate on it). */
  readonly deliveryId: string;
  /** Serialized as JSON; signed as sent. */
  readonly payload: unknown;
}

/** Sends events to the tenant's webhook; throws an error named `WebhookFailed`, `WebhookRefused` or `WebhookNotConfigured`. */
export interface WebhookSender {
  send(event: WebhookEvent): Promise<{ status: number }>;
}

/** Starts a review workflow (idempotent per review id), for hand-offs that failed. */
export interface WorkflowStarter {
  start(input: ReviewExecutionInput): Promise<void>;
}

/** The tenant's review queue (caps) as the review code uses it: places are given back when reviews end. */
export interface ReviewQueuePlaces {
  release(reviewId: string): Promise<void>;
  /** The open reviews, their count and the last flood (strongly consistent). */
  state(): Promise<OpenReviewsState>;
}

/** What every review use case gets. */
export interface ReviewCoreDeps {
  readonly store: ReviewStore;
  readonly telemetry: Telemetry;
  readonly now: () => number;
}

/** What the workflow steps and the sweep get. */
export interface ReviewStepsDeps extends ReviewCoreDeps {
  readonly config: ReviewRuntimeConfig;
  readonly cipher: TokenCipher;
  /**
   * Signs and delivers webhook events.
   * @default - the tenant has no webhook: nothing is sent
   */
  readonly webhook?: WebhookSender;
  readonly handOff: WorkflowStarter;
  readonly queue: ReviewQueuePlaces;
}

/** The name an error is logged with (for a task no longer waiting: what the workflow service said). */
export function errorName(e: unknown): string | undefined {
  return e instanceof TaskNotWaitingError ? e.reason : (e as Error)?.name;
}
