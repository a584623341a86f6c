/**
 * The inference service: the request flow from a validated body to a stored, answered request.
 *
 *   resolve (4xx, nothing written) → claim the request record (conditional put; the idempotency guard)
 *   → call the model → write the outcome to the record → add usage to the month counter → answer.
 *
 * Every accepted request has exactly one record: its id is derived from the idempotency key when there is
 * one, so a repeat finds the first record instead of creating a second, and is answered from it with no
 * model call and no charge.
 */
import { createHash } from 'node:crypto';
import type { Attempt, InferenceRequest, InferenceResponse } from '../../shared/api-schema';
import { costNanoUsd, nanoToUsd, usdToNano } from '../../shared/catalog';
import { ApiError } from '../../shared/errors';
import { monthOf } from '../../shared/ledger-schema';
import type { TenantRuntimeConfig } from '../../shared/tenant-runtime';
import {
  type Clock,
  type IdGenerator,
  type Ledger,
  ModelCallError,
  type ModelInvoker,
  type RequestRecord,
} from './ports';
import { resolveRequest } from './resolve';

/** What the HTTP adapter sends back. */
export interface ServiceResult {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

/** An `ApiError` raised after a request was accepted: the envelope carries the ledger's request id. */
export class AcceptedRequestError extends ApiError {
  constructor(
    readonly requestId: string,
    code: ApiError['code'],
    message: string,
    retryAfterSeconds?: number,
  ) {
    super(code, message, retryAfterSeconds);
    this.name = 'AcceptedRequestError';
  }
}

export interface InferenceServiceDeps {
  readonly config: TenantRuntimeConfig;
  readonly invoker: ModelInvoker;
  readonly ledger: Ledger;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

/** How long a caller should wait before retrying after the models were unavailable. */
const MODEL_RETRY_AFTER_SECONDS = 5;

/** The request id for an idempotency key: stable per tenant and key. */
export function requestIdForKey(tenantId: string, key: string): string {
  return `req_${createHash('sha256').update(`${tenantId}\u0000${key}`).digest('base64url').slice(0, 26)}`;
}

/** A hash of what determines the answer, to tell a true repeat from a reused key. */
export function bodyHash(req: InferenceRequest): string {
  const { idempotencyKey: _ignored, metadata: _meta, ...rest } = req;
  const canonical = JSON.stringify(rest, Object.keys(rest).sort());
  return createHash('sha256').update(canonical).digest('hex');
}

/** Builds the public view of a request record (`GET /v1/requests/{id}` and replays). */
export function publicRecord(r: RequestRecord) {
  return {
    requestId: r.requestId,
    status: r.status,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    tier: r.tier,
    modelId: r.modelId,
    routeReason: r.routeReason,
    output: r.output ?? null,
    confidence: r.confidence ?? null,
    usage: { inputTokens: r.inputTokens, outputTokens: r.outputTokens },
    costUsd: nanoToUsd(r.costNanoUsd),
    latencyMs: r.latencyMs ?? null,
    escalated: r.escalated ?? false,
    attempts: r.attempts,
    answeredBy: r.status === 'completed' ? { type: 'model' as const, modelId: r.modelId } : null,
    error: r.error ?? null,
    metadata: r.metadata ?? {},
  };
}

function completedResponse(
  r: Pick<
    RequestRecord,
    | 'requestId'
    | 'output'
    | 'tier'
    | 'modelId'
    | 'confidence'
    | 'inputTokens'
    | 'outputTokens'
    | 'costNanoUsd'
    | 'escalated'
    | 'attempts'
  >,
): InferenceResponse {
  return {
    requestId: r.requestId,
    status: 'completed',
    output: r.output ?? '',
    tier: r.tier,
    modelId: r.modelId,
    confidence: r.confidence ?? null,
    usage: { inputTokens: r.inputTokens, outputTokens: r.outputTokens },
    costUsd: nanoToUsd(r.costNanoUsd),
    escalated: r.escalated ?? false,
    attempts: r.attempts,
  };
}

function errorForFailure(e: ModelCallError): { code: 'model_unavailable' | 'model_error'; message: string } {
  if (e.kind === 'error') {
    return { code: 'model_error', message: `The model rejected the call (${e.errorName}); see the request record` };
  }
  const what =
    e.kind === 'timeout' ? 'did not answer in time' : e.kind === 'throttled' ? 'is throttling' : 'is unavailable';
  return { code: 'model_unavailable', message: `The model ${what} after retries (${e.errorName}); retry later` };
}

/** Creates the service from its ports. */
export function makeInferenceService(deps: InferenceServiceDeps) {
  const { config, invoker, ledger, clock, ids } = deps;

  /** Answers a repeat of an idempotent request from its record. */
  async function replay(existing: RequestRecord, hash: string): Promise<ServiceResult | 'retry'> {
    if (existing.bodyHash !== hash) {
      throw new ApiError(
        'idempotency_key_reused',
        `idempotencyKey "${existing.idempotencyKey}" was already used for a different request (${existing.requestId}); use a new key`,
      );
    }
    if (existing.status === 'completed') {
      return {
        status: 200,
        body: completedResponse(existing),
        headers: { 'Idempotent-Replay': 'true' },
      };
    }
    if (existing.status === 'failed') return 'retry';
    throw new AcceptedRequestError(
      existing.requestId,
      'request_in_progress',
      `Request ${existing.requestId} with this idempotencyKey is still ${existing.status}; poll GET /v1/requests/${existing.requestId}`,
      2,
    );
  }

  async function infer(req: InferenceRequest, opts: { deadlineMs: number }): Promise<ServiceResult> {
    const resolved = resolveRequest(config, req);
    const now = clock.now();
    const at = new Date(now).toISOString();
    const hash = bodyHash(req);
    const requestId = req.idempotencyKey ? requestIdForKey(config.tenantId, req.idempotencyKey) : ids.newRequestId();
    const month = monthOf(now);

    let runs = 1;
    if (req.idempotencyKey) {
      const existing = await ledger.getRequest(requestId);
      if (existing) {
        const r = await replay(existing, hash);
        if (r !== 'retry') return r;
        runs = existing.runs + 1;
        if (!(await ledger.reopenFailedRequest(requestId, at, runs))) {
          throw new AcceptedRequestError(
            requestId,
            'request_in_progress',
            'A retry of this request is already running',
            2,
          );
        }
      }
    }
    if (runs === 1) {
      const record: RequestRecord = {
        requestId,
        tenantId: config.tenantId,
        status: 'in_progress',
        createdAt: at,
        updatedAt: at,
        month,
        tier: resolved.tier,
        modelId: resolved.modelId,
        routeReason: resolved.routeReason,
        bodyHash: hash,
        ...(req.idempotencyKey ? { idempotencyKey: req.idempotencyKey } : {}),
        runs,
        inputTokens: 0,
        outputTokens: 0,
        costNanoUsd: 0,
        attempts: [],
        expiresAt: Math.floor(now / 1000) + config.dataRetentionDays * 86400,
        ...(req.metadata ? { metadata: req.metadata } : {}),
      };
      if ((await ledger.createRequest(record)) === 'exists') {
        // Lost a race with the same key: answer from the winner's record.
        const winner = await ledger.getRequest(requestId);
        if (winner) {
          const r = await replay(winner, hash);
          if (r !== 'retry') return r;
        }
        throw new AcceptedRequestError(requestId, 'request_in_progress', 'This request is already running', 2);
      }
    }

    const started = clock.now();
    try {
      const reply = await invoker.converse({
        modelId: resolved.modelId,
        system: resolved.system,
        messages: resolved.messages,
        maxTokens: resolved.maxTokens,
        deadlineMs: opts.deadlineMs,
      });
      const cost = costNanoUsd(resolved.modelId, reply);
      const attempt: Attempt = {
        tier: resolved.tier,
        modelId: resolved.modelId,
        outcome: 'ok',
        inputTokens: reply.inputTokens,
        outputTokens: reply.outputTokens,
        costUsd: nanoToUsd(cost),
        latencyMs: reply.latencyMs,
        stopReason: reply.stopReason,
      };
      const endedAt = clock.now();
      const outcome = {
        status: 'completed' as const,
        updatedAt: new Date(endedAt).toISOString(),
        tier: resolved.tier,
        modelId: resolved.modelId,
        inputTokens: reply.inputTokens,
        outputTokens: reply.outputTokens,
        costNanoUsd: cost,
        latencyMs: endedAt - started,
        output: reply.text,
        confidence: null,
        escalated: false,
        attempts: [attempt],
      };
      // Count usage only for the run that moved the record to completed, so usage is never added twice.
      if (await ledger.finishRequest(requestId, outcome)) {
        await ledger.addUsage(month, resolved.tier, { ...reply, costNanoUsd: cost });
      }
      return { status: 200, body: completedResponse({ requestId, ...outcome }) };
    } catch (e) {
      if (!(e instanceof ModelCallError)) throw e;
      const { code, message } = errorForFailure(e);
      const endedAt = clock.now();
      const attempt: Attempt = {
        tier: resolved.tier,
        modelId: resolved.modelId,
        outcome: e.kind === 'error' ? 'error' : e.kind,
        inputTokens: 0,
        outputTokens: 0,
        costUsd: 0,
        latencyMs: endedAt - started,
        errorCode: e.errorName,
      };
      await ledger.finishRequest(requestId, {
        status: 'failed',
        updatedAt: new Date(endedAt).toISOString(),
        tier: resolved.tier,
        modelId: resolved.modelId,
        inputTokens: 0,
        outputTokens: 0,
        costNanoUsd: 0,
        latencyMs: endedAt - started,
        attempts: [attempt],
        error: { code, message: `${e.errorName}: ${e.message}`.slice(0, 500) },
      });
      throw new AcceptedRequestError(
        requestId,
        code,
        message,
        code === 'model_unavailable' ? MODEL_RETRY_AFTER_SECONDS : undefined,
      );
    }
  }

  async function getRequest(requestId: string): Promise<ServiceResult> {
    if (!/^req_[A-Za-z0-9_-]{10,40}$/.test(requestId)) {
      throw new ApiError('not_found', `No request "${requestId}" for this tenant`);
    }
    const r = await ledger.getRequest(requestId);
    if (!r || r.tenantId !== config.tenantId)
      throw new ApiError('not_found', `No request "${requestId}" for this tenant`);
    return { status: 200, body: publicRecord(r) };
  }

  async function getUsage(): Promise<ServiceResult> {
    const month = monthOf(clock.now());
    const u = await ledger.getUsage(month);
    const budgetNano = usdToNano(config.monthlyBudgetUsd);
    return {
      status: 200,
      body: {
        tenantId: config.tenantId,
        month,
        requests: u.requests,
        inputTokens: u.inputTokens,
        outputTokens: u.outputTokens,
        costUsd: nanoToUsd(u.costNanoUsd),
        budgetUsd: config.monthlyBudgetUsd,
        budgetUsedShare: budgetNano > 0 ? Math.round((u.costNanoUsd / budgetNano) * 10000) / 10000 : null,
        byTier: Object.fromEntries(
          Object.entries(u.byTier).map(([tier, t]) => [
            tier,
            {
              requests: t.requests,
              inputTokens: t.inputTokens,
              outputTokens: t.outputTokens,
              costUsd: nanoToUsd(t.costNanoUsd),
            },
          ]),
        ),
      },
    };
  }

  return { infer, getRequest, getUsage };
}

export type InferenceService = ReturnType<typeof makeInferenceService>;
