/**
 * The accept step: the request's record is claimed with a conditional write (created, or a failed record
 * of the same idempotency key reopened for a new run). From here on the request is the tenant's: it is
 * recorded, settled and answered with its record's id. Before it, nothing is written but the budget hold,
 * which a refusal gives back.
 */
import type { InferenceRequest } from '../../shared/api-schema';
import { DomainError } from '../../shared/errors';
import type { TenantRuntimeConfig } from '../../shared/tenant-runtime';
import type { BudgetHold } from './budget';
import { type ReplayDecision, replayDecision } from './idempotency';
import { type Ledger, LedgerInputError, type RequestRecord } from './ports';
import type { ResolvedRequest } from './resolve';

/** How long a caller should wait before retrying after DynamoDB refused a request before it was accepted. */
const LEDGER_RETRY_AFTER_SECONDS = 3;

/** DynamoDB failing before a request is accepted: nothing was recorded or charged, so the caller may retry. */
export function ledgerDown(e: unknown): never {
  if (e instanceof DomainError) throw e;
  throw new DomainError(
    'ledger_unavailable',
    `The ledger is unavailable (${(e as Error)?.name ?? 'Error'}); nothing was recorded or charged, retry in a few seconds`,
    LEDGER_RETRY_AFTER_SECONDS,
  );
}

/** One run of a request, as the accept step writes it. */
export interface RunStart {
  readonly tenant: TenantRuntimeConfig;
  readonly req: InferenceRequest;
  readonly resolved: ResolvedRequest;
  readonly requestId: string;
  readonly runId: string;
  /** How many runs the record has had, this one included. */
  readonly runs: number;
  readonly hash: string;
  readonly month: string;
  /** ISO time the run started. */
  readonly at: string;
  /** Epoch seconds when TTL removes the record. */
  readonly expiresAt: number;
}

/** The record a first run creates. */
export function newRecord(run: RunStart): RequestRecord {
  const { req, resolved, at } = run;
  return {
    requestId: run.requestId,
    tenantId: run.tenant.tenantId,
    status: 'in_progress',
    createdAt: at,
    updatedAt: at,
    month: run.month,
    tier: resolved.tier,
    modelId: resolved.modelId,
    routeReason: resolved.routeReason,
    ...(resolved.routerScore !== undefined ? { routerScore: resolved.routerScore } : {}),
    bodyHash: run.hash,
    ...(req.idempotencyKey ? { idempotencyKey: req.idempotencyKey } : {}),
    runs: run.runs,
    runId: run.runId,
    inputTokens: 0,
    outputTokens: 0,
    costNanoUsd: 0,
    attempts: [],
    expiresAt: run.expiresAt,
    ...(req.metadata ? { metadata: req.metadata } : {}),
  };
}

/**
 * Claims the record for `run` (`reopen`: a retry of a failed keyed request). Returns `accepted`, or the
 * winner's answer when a concurrent request with the same key created the record first; throws (after
 * giving the hold back) when the request cannot be accepted.
 */
export async function acceptRun(
  ledger: Ledger,
  run: RunStart,
  hold: BudgetHold,
  reopen: boolean,
  now: () => number,
): Promise<'accepted' | Extract<ReplayDecision, { kind: 'replay' }>> {
  const { requestId, runId } = run;
  /**
   * The create or reopen write failed with an error, but DynamoDB may have applied it. Read back: if
   * the record is in progress under this run, the request was accepted after all; if it is not, release
   * and refuse; if even that cannot be read, keep the hold (the reconciler closes the run whichever way
   * it went) and refuse.
   */
  const acceptanceFailed = async (e: unknown): Promise<true> => {
    let owned: boolean;
    try {
      const r = await ledger.getRequest(requestId);
      owned = r?.runId === runId && r.status === 'in_progress';
    } catch {
      throw new DomainError(
        'ledger_unavailable',
        `The ledger is unavailable (${(e as Error)?.name ?? 'Error'}); nothing was charged, but request ${requestId} may show as in progress for a few minutes; retry later`,
        LEDGER_RETRY_AFTER_SECONDS,
      );
    }
    if (owned) return true;
    await hold.release();
    return ledgerDown(e);
  };

  if (reopen) {
    const { at, runs, month, expiresAt } = run;
    const reopened = await ledger
      .reopenFailedRequest(requestId, { at, runs, runId, month, expiresAt })
      .catch(acceptanceFailed);
    if (reopened) return 'accepted';
    await hold.release();
    throw new DomainError('request_in_progress', 'A retry of this request is already running', 2, requestId);
  }
  const created = await ledger.createRequest(newRecord(run)).catch(async (e) => {
    if (e instanceof LedgerInputError) {
      // Refused for what it holds, not an outage: nothing was written; a retry would fail the same way.
      await hold.release();
      throw new DomainError(
        'invalid_request',
        'The request cannot be stored as sent: a field (most likely metadata) holds a value the ledger cannot represent; nothing was recorded or charged, change the request',
      );
    }
    await acceptanceFailed(e);
    return 'created' as const;
  });
  if (created === 'created') return 'accepted';
  await hold.release();
  // Lost a race with the same key: answer from the winner's record.
  const winner = await ledger.getRequest(requestId);
  if (winner) {
    const r = replayDecision(winner, run.hash, now());
    if (r.kind === 'replay') return r;
  }
  throw new DomainError('request_in_progress', 'This request is already running', 2, requestId);
}
