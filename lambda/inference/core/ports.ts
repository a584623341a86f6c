/**
 * The inference service's ports: what the core needs from the outside world. Adapters in `../adapters`
 * implement them with the AWS SDK; tests may implement them in memory.
 */
import type { Attempt, RequestStatus } from '../../shared/api-schema';

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
}

/** What a model answered. */
export interface ModelReply {
  readonly text: string;
  readonly stopReason: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly latencyMs: number;
}

/** Why a model call failed, as far as routing and the caller care. */
export type ModelFailureKind = 'throttled' | 'unavailable' | 'timeout' | 'error';

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
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costNanoUsd: number;
  readonly latencyMs?: number;
  readonly output?: string;
  readonly confidence?: number | null;
  readonly escalated?: boolean;
  readonly attempts: readonly Attempt[];
  readonly error?: { readonly code: string; readonly message: string };
  /** Epoch seconds when TTL removes the record. */
  readonly expiresAt: number;
  readonly metadata?: Record<string, string>;
}

/** The outcome fields written when a request reaches a terminal state. */
export interface RequestOutcome {
  readonly status: 'completed' | 'failed';
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
}

/** Month-to-date counters. */
export interface UsageCounters {
  readonly month: string;
  readonly requests: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costNanoUsd: number;
  readonly byTier: Record<string, { requests: number; inputTokens: number; outputTokens: number; costNanoUsd: number }>;
}

/** The tenant's ledger: request records and usage counters. Every method is one single-item write or read. */
export interface Ledger {
  getRequest(requestId: string): Promise<RequestRecord | undefined>;
  /** Creates the record unless one with the same id exists. */
  createRequest(record: RequestRecord): Promise<'created' | 'exists'>;
  /** Moves a `failed` record back to `in_progress` for a retry with the same idempotency key. */
  reopenFailedRequest(requestId: string, at: string, runs: number): Promise<boolean>;
  /** Writes the terminal outcome; only from `in_progress`. Returns false if the record was not in progress. */
  finishRequest(requestId: string, outcome: RequestOutcome): Promise<boolean>;
  /** Adds one request's usage to the month counter (total and per tier) in one atomic update. */
  addUsage(
    month: string,
    tier: string,
    usage: { inputTokens: number; outputTokens: number; costNanoUsd: number },
  ): Promise<void>;
  getUsage(month: string): Promise<UsageCounters>;
}

/** Time source. */
export interface Clock {
  now(): number;
}

/** Id source. */
export interface IdGenerator {
  newRequestId(): string;
}
