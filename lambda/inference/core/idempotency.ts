/**
 * The idempotency step. Every accepted request has exactly one record: its id is derived from the
 * idempotency key when there is one, so a repeat finds the first record instead of creating a second, and is
 * answered from it (no model call, no charge); a repeat after a run that charged nothing runs again.
 */
import { createHash } from 'node:crypto';
import type { InferenceRequest, InferenceResponse } from '../../shared/api-schema';
import { DomainError } from '../../shared/errors';
import type { RequestRecord } from './ports';
import { refusalOfRecord } from './review-admission';
import { answerResponse } from './views';

/** The request id for an idempotency key: stable per tenant and key. */
export function requestIdForKey(tenantId: string, key: string): string {
  return `req_${createHash('sha256').update(`${tenantId}\u0000${key}`).digest('base64url').slice(0, 26)}`;
}

/** A hash of what determines the answer, to tell a true repeat from a reused key. */
export function bodyHash(req: InferenceRequest): string {
  const { idempotencyKey: _ignored, metadata: _meta, ...rest } = req;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** JSON with object keys sorted at every depth, so equal values always give the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What a repeat of a keyed request gets: the first answer again, or a new run of the same record. */
export type ReplayDecision =
  | { readonly kind: 'replay'; readonly response: InferenceResponse }
  | { readonly kind: 'retry'; readonly runs: number };

/**
 * Decides a repeat from the record of the first request (`now` dates a refusal's retry time). Throws the
 * error the first request ended with when it is to be answered again, or one saying why it cannot be.
 */
export function replayDecision(existing: RequestRecord, hash: string, now: number): ReplayDecision {
  if (existing.bodyHash !== hash) {
    throw new DomainError(
      'idempotency_key_reused',
      `idempotencyKey "${existing.idempotencyKey}" was already used for a different request (${existing.requestId}); use a new key`,
    );
  }
  if (existing.status === 'failed') {
    // Only a run that charged nothing is run again; a failed review keeps its charged answer.
    if (existing.costNanoUsd === 0) return { kind: 'retry', runs: existing.runs + 1 };
    // Refused by a review cap: the same refusal again (the answer was paid for and is never released).
    const refusal = refusalOfRecord(existing.error, now);
    if (refusal) {
      throw new DomainError(refusal.code, refusal.message, refusal.retryAfterSeconds, existing.requestId);
    }
    throw new DomainError(
      'review_failed',
      `Request ${existing.requestId} was answered but its review failed (${existing.error?.message ?? 'see the record'}); the answer was not released. Send it again with a new idempotencyKey`,
      undefined,
      existing.requestId,
    );
  }
  if (existing.status === 'in_progress') {
    throw new DomainError(
      'request_in_progress',
      `Request ${existing.requestId} with this idempotencyKey is still ${existing.status}; poll GET /v1/requests/${existing.requestId}`,
      2,
      existing.requestId,
    );
  }
  return { kind: 'replay', response: answerResponse(existing) };
}
