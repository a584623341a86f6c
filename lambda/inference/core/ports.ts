/**
 * The inference service's ports: what the core needs from the outside world. Adapters in `../adapters`
 * implement them with the AWS SDK; tests may implement them in memory.
 */
import type { Attempt, RequestStatus } from '../../shared/api-schema';
import type { GuardrailUnits } from '../../shared/catalog';
import type { ReviewInput } from '../../shared/review-schema';
import type { GuardrailOutcome } from './guardrail';

/** A chat message as Converse takes it (text only). */
export interface ChatMessage {
  readonly role: 'user' | 'assistant';
  readonly content: string;
}

/** One model call. */
export interface ModelCall {
  readonly modelId: string;
  readonly system?: string;
  readonly messages: readonly ChatMessage[];
  readonly maxTokens: number;
  /** Epoch ms by which the call must have returned (the adapter aborts it then). */
  readonly deadlineMs: number;
  /** The tenant's system preambles (platform's, then tenant's), put before the caller's `system`. */
  readonly preamble?: { readonly platform?: string; readonly tenant?: string };
}

/** What a model answered. */
export interface ModelReply {
  readonly text: string;
  readonly stopReason: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly latencyMs: number;
  /** Text units the tenant's guardrail evaluated on the call (billed with the tokens). */
  readonly guardrailUnits?: GuardrailUnits;
  /** What the guardrail did (every call carries one; absent only from invokers without a guardrail). */
  readonly guardrail?: GuardrailOutcome;
}

/** What the record keeps of a guardrail intervention (no matched text). */
export interface GuardrailRecord {
  readonly intervened: true;
  readonly on: 'input' | 'output';
  readonly findings: readonly string[];
  /** The call it happened on. */
  readonly tier: string;
  readonly modelId: string;
}

/** Why a model call failed, as far as routing and the caller care. */
/**
 * `denied`: this function may not call the model (AccessDeniedException: an inference profile routed the call to a
 * region its IAM policy does not name, or the model's access was revoked). Another model may well answer.
 */
export type ModelFailureKind = 'throttled' | 'unavailable' | 'timeout' | 'denied' | 'error';

/** Thrown by a `ModelInvoker` when a call fails after the SDK's own retries. */
export class ModelCallError extends Error {
  constructor(
    readonly kind: ModelFailureKind,
    message: string,
    /** The service's error name (e.g. `ThrottlingException`), for the record. */
    readonly errorName: string,
  ) {
    super(message);
    this.name = 'ModelCallError';
  }
}

/**
 * Thrown by a `Ledger` write that was refused because of what the item holds (the marshaller could not
 * represent it, or DynamoDB answered ValidationException: size, types, encoding), not because DynamoDB is
 * unavailable. Nothing was written; retrying the same input fails the same way, so the caller's request is refused.
 */
export class LedgerInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerInputError';
  }
}

/** Calls a Bedrock model. */
export interface ModelInvoker {
  converse(call: ModelCall): Promise<ModelReply>;
}

/** The stored record of one accepted request. */
export interface RequestRecord {
  readonly requestId: string;
  readonly tenantId: string;
  readonly status: RequestStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly month: string;
  readonly tier: string;
  readonly modelId: string;
  readonly routeReason: string;
  readonly bodyHash: string;
  readonly idempotencyKey?: string;
  /** How many times this request was started (more than 1 only when a failed keyed request is retried). */
  readonly runs: number;
  /**
   * Random id of the run that owns the record now. Conditional writes check it, so a write of this run
   * that DynamoDB applied but whose response was lost is recognised on the SDK's retry, and a run that
   * lost the record to another (a retry, the reconciler) can never finish it.
   */
  readonly runId: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costNanoUsd: number;
  readonly latencyMs?: number;
  readonly output?: string;
  readonly confidence?: number | null;
  readonly escalated?: boolean;
  readonly attempts: readonly Attempt[];
  readonly error?: { readonly code: string; readonly message: string };
  /** The router's score (P(the strongest tier is needed)) when the tier was chosen by the router. */
  readonly routerScore?: number;
  /** Set when the request was handed to human review. */
  readonly reviewId?: string;
  /**
   * How the review ended (set by the review workflow): outcome and time. Records written by earlier versions
   * may also hold the reviewer and note; callers are shown outcome and time only (`callerReview`).
   */
  readonly review?: {
    readonly reviewId: string;
    readonly outcome: string;
    readonly decidedAt: string;
    readonly unreviewed?: boolean;
    /** Why an expired answer was not released although the policy is `release_unreviewed` (a flooded queue). */
    readonly withheld?: string;
  };
  /** Why the cascade stopped where it did (accepted, review, budget, deadline). */
  readonly cascadeReason?: string;
  /** Set when the tenant's guardrail blocked the prompt or blocked or masked the answer. */
  readonly guardrail?: GuardrailRecord;
  /** The answer stopped at the `maxTokens` the caller chose (returned as it is, not escalated or reviewed). */
  readonly truncated?: boolean;
  /**
   * The budget reservations the run that wrote the outcome held (its settlement removes exactly these).
   * If none of them is open any more, that settlement happened, and whatever else of the run is still open
   * (a reservation whose write reported an error) is released without charging the record again.
   */
  readonly reservationIds?: readonly string[];
  /** Epoch seconds when TTL removes the record. */
  readonly expiresAt: number;
  readonly metadata?: Record<string, string>;
}

/** The outcome fields written when a request reaches a terminal state. */
export interface RequestOutcome {
  readonly status: 'completed' | 'failed' | 'pending_review';
  readonly updatedAt: string;
  readonly tier: string;
  readonly modelId: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costNanoUsd: number;
  readonly latencyMs: number;
  readonly output?: string;
  readonly confidence?: number | null;
  readonly escalated?: boolean;
  readonly attempts: readonly Attempt[];
  readonly error?: { readonly code: string; readonly message: string };
  readonly reviewId?: string;
  readonly cascadeReason?: string;
  /** See `RequestRecord.guardrail`. */
  readonly guardrail?: GuardrailRecord;
  /** See `RequestRecord.truncated`. */
  readonly truncated?: boolean;
  /** See `RequestRecord.reservationIds`. */
  readonly reservationIds?: readonly string[];
  /** What the reviewers need to see (system and messages, bounded in size); only on `pending_review`. */
  readonly reviewInput?: ReviewInput;
}

/** Usage of one tier: model calls that answered, their tokens and cost. */
export interface TierUsage {
  readonly requests: number;
  readonly calls: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costNanoUsd: number;
}

/** An open budget reservation on the month counter (worst-case cost held while a request runs). */
export interface OpenReservation {
  readonly id: string;
  readonly requestId: string;
  readonly nanoUsd: number;
  /** Epoch ms when it was made. */
  readonly at: number;
}

/** Month-to-date counters. */
export interface UsageCounters {
  readonly month: string;
  /** Requests settled this month (completed, pending review or failed). */
  readonly requests: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Settled cost: exactly the sum of the month's request records. */
  readonly costNanoUsd: number;
  /** Settled cost plus the worst case of the requests still running: what the budget guard checks. */
  readonly committedNanoUsd: number;
  readonly openReservations: readonly OpenReservation[];
  readonly byTier: Record<string, TierUsage>;
}

/** What one request adds to the month counter when it settles. */
export interface Settlement {
  readonly requestId: string;
  /** The reservations the request holds; settling removes them, exactly once. */
  readonly reservationIds: readonly string[];
  readonly reservedNanoUsd: number;
  /** 1 when the request counts toward the month's requests (it reached a terminal state), 0 for a release. */
  readonly requests: 0 | 1;
  /** Per tier usage of the request's answered calls; `requests` is 1 on the tier that gave the final answer. */
  readonly byTier: Readonly<Record<string, TierUsage>>;
}

/** The tenant's ledger: request records and usage counters. Every method is one single-item write or read. */
export interface Ledger {
  getRequest(requestId: string): Promise<RequestRecord | undefined>;
  /** Creates the record unless one with the same id exists (`created` also when it is this run's own write). */
  createRequest(record: RequestRecord): Promise<'created' | 'exists'>;
  /**
   * Moves a `failed` record back to `in_progress` for a retry with the same idempotency key, owned by the
   * new run (`runs`, `runId`) and dated to it (`month`, `expiresAt`). False if it was not failed.
   */
  reopenFailedRequest(
    requestId: string,
    run: { at: string; runs: number; runId: string; month: string; expiresAt: number },
  ): Promise<boolean>;
  /**
   * Writes the terminal outcome; only from `in_progress` and only by the run that owns the record.
   * Returns false if the record was not in progress under `runId` (and this run had not already written it).
   */
  finishRequest(requestId: string, runId: string, outcome: RequestOutcome, signal?: AbortSignal): Promise<boolean>;
  /**
   * Holds `nanoUsd` of the month's budget for a running request, in one conditional update: only if the
   * month's committed spend (settled + held) is at most `maxCommittedBefore` now. `over_budget` writes nothing.
   */
  reserve(
    month: string,
    reservation: { id: string; requestId: string; nanoUsd: number; at: number },
    maxCommittedBefore: number,
  ): Promise<'reserved' | 'over_budget'>;
  /**
   * Replaces a request's reservations with its actual usage in one atomic update, conditional on every
   * reservation still being open, so a settlement is applied exactly once (`already_settled` otherwise).
   * Returns the month's settled cost after the update when it applied.
   */
  settle(
    month: string,
    settlement: Settlement,
    /** Aborts the write (and its retries) when the time to record an outcome is up. */
    signal?: AbortSignal,
  ): Promise<{ result: 'settled'; costNanoUsd: number } | { result: 'already_settled' }>;
  getUsage(month: string): Promise<UsageCounters>;
}

/** Time source. */
export interface Clock {
  now(): number;
}

/** Hands a request whose answer is still unsure after the strongest tier to people. */
export interface ReviewHandOff {
  /**
   * Starts the review of a request already recorded as `pending_review` (its record holds the review
   * input). Idempotent per review id: a repeat starts nothing new.
   */
  start(
    input: {
      requestId: string;
      tenantId: string;
      reviewId: string;
      confidence: number;
      reason: string;
    },
    signal?: AbortSignal,
  ): Promise<void>;
}

/** What the review queue said about one answer that needs review. */
export type ReviewAdmission =
  | { readonly result: 'admitted' }
  /** The tenant already has `open` reviews waiting, its cap. */
  | { readonly result: 'queue_full'; readonly open: number }
  /** The tenant has admitted its cap of reviews in the current UTC hour. */
  | { readonly result: 'rate_exceeded' };

/**
 * The tenant's review caps: how many reviews may wait at once, and how many may start per UTC hour. Every
 * method is idempotent per review id (admitting or releasing the same review twice changes nothing).
 */
export interface ReviewQueue {
  /**
   * Takes a place for a review, under both caps, or says which cap refused it (a refusal changes nothing but
   * the queue's "flooded" time). `at` is the admission time (it names the hourly bucket).
   */
  admit(
    slot: { reviewId: string; requestId: string; at: number },
    caps: { maxOpen: number; maxPerHour: number },
    signal?: AbortSignal,
  ): Promise<ReviewAdmission>;
  /**
   * Gives a review's place back. With `admittedAt`, also takes it out of that hour's count: for a review that
   * was admitted but never started (its request could not be recorded as pending review).
   */
  release(reviewId: string, opts?: { admittedAt?: number }, signal?: AbortSignal): Promise<void>;
}

/** The learned router as the service sees it: pure, fast, no I/O. */
export type RouteFn = (text: string) => { readonly score: number };

/** Scores an answer's confidence (0–1) from what the response shows. */
export type ConfidenceFn = (input: {
  prompt: string;
  text: string;
  stopReason: string;
  /** Checks stop once `now()` passes `deadline`. */
  budget?: { now: () => number; deadline: number };
}) => {
  readonly confidence: number;
  readonly signals: readonly string[];
};

/** Id source. */
export interface IdGenerator {
  newRequestId(): string;
}
