/**
 * The inference API's HTTP mapping: an answer is 200, one handed to human review 202, a repeat of an
 * idempotency key carries `Idempotent-Replay: true`; a failed request is its error's envelope (see
 * `../../shared/http`), with the ledger's request id.
 */
import type { InferOutcome } from '../core/outcome';

/** A response before it is serialised: status, JSON body and extra headers. */
export interface HttpResult {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

/** The outcomes that answer (every outcome but `failed`). */
export type AnsweredOutcome = Exclude<InferOutcome, { kind: 'failed' }>;

/** The response of an answered outcome. */
export function answerResult(outcome: AnsweredOutcome): HttpResult {
  const status = outcome.response.status === 'pending_review' ? 202 : 200;
  if (outcome.kind === 'replayed') return { status, body: outcome.response, headers: { 'Idempotent-Replay': 'true' } };
  return { status, body: outcome.response };
}

/** A successful read (`GET /v1/requests/{id}`, `GET /v1/usage`). */
export function readResult(body: unknown): HttpResult {
  return { status: 200, body };
}
