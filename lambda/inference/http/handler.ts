/**
 * The inference API's Lambda proxy handler, shared by both deployment models: the silo function
 * (lambda/inference/index.ts, one tenant from its environment) and the pooled function of a pool cell
 * (lambda/pool-inference/index.ts, the tenant the pool authorizer named). What differs is only how a request
 * is bound to its tenant ({@link TenantBinding}); the routes, the body parsing, the call into the core service,
 * the HTTP mapping, the request metrics and the log lines are these, once.
 *
 *   route check (404 / 405, nothing read) → bind (the tenant, its service and telemetry) → admit (pooled tenants'
 *   own rate and quota: 429 before anything else is written) → the route → 200 / 202 / the error envelope.
 *
 * A binding that fails with a `DomainError` is answered with its envelope; anything else (the tenant missing from
 * the authorizer context, the registry unreachable) is a logged 500 that says nothing about internals.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { DomainError, ERROR_CODES } from '../../shared/errors';
import { checkRoute, dispatch, errorResponse, internalError, json, type Routes, rawBodyOf } from '../../shared/http';
import type { Telemetry } from '../../shared/telemetry';
import { RECONCILE_EVENT, type TenantRuntimeConfig } from '../../shared/tenant-runtime';
import { requestDeadlines } from '../../shared/timing';
import type { Deadline, InferenceService } from '../core/service';
import { emitRequestMetrics } from '../metrics';
import { parseInferenceBody } from './request';
import { answerResult, type HttpResult, readResult } from './responses';

/** A request's tenant, as the function serves it. */
export interface TenantBinding {
  readonly tenant: TenantRuntimeConfig;
  /** The core service on the tenant's ledger (a silo's own table; a pooled tenant's scoped items and session). */
  readonly service: InferenceService;
  /** Log lines and metrics under the tenant's id. */
  readonly telemetry: Telemetry;
  /**
   * Admits the request under the tenant's own rate and quota, or throws the 429 (`throttled`, `quota_exceeded`).
   * Absent for a silo tenant, whose API Gateway usage plan does that before the function runs.
   */
  readonly admit?: () => Promise<void>;
}

export interface InferenceHandlerDeps {
  /** The tenant of a request; see the file header for what its errors become. */
  readonly bind: (event: APIGatewayProxyEvent) => Promise<TenantBinding>;
  /** The function's own log lines, before a request is bound to a tenant. */
  readonly telemetry: Telemetry;
  /** The scheduled reconciliation (RECONCILE_EVENT); its answer is the invocation's result. */
  readonly reconcile: (context?: Partial<Context>) => Promise<unknown>;
  /** @default Date.now */
  readonly now?: () => number;
}

/** One invocation: when it started, the deadlines of its model calls and writes, and the gateway's id for it. */
export interface Invocation {
  readonly started: number;
  readonly deadline: Deadline;
  readonly gatewayRequestId: string;
}

/** Milliseconds an invocation is assumed to have when Lambda does not say (API Gateway's own limit, less one). */
const DEFAULT_REMAINING_MS = 29_000;

/** The invocation of a proxy event: started now, with the deadlines the function's remaining time allows. */
export function invocationOf(
  event: APIGatewayProxyEvent,
  context: Partial<Context> | undefined,
  now: () => number = Date.now,
): Invocation {
  const started = now();
  const remaining = context?.getRemainingTimeInMillis?.() ?? DEFAULT_REMAINING_MS;
  return {
    started,
    deadline: requestDeadlines(started, remaining),
    gatewayRequestId: event.requestContext?.requestId ?? context?.awsRequestId ?? randomUUID(),
  };
}

/** What a route answers: a response, or the error of a request the core accepted (its metrics already sent). */
type Routed = HttpResult | { readonly failed: DomainError };

interface RouteContext {
  readonly binding: TenantBinding;
  readonly invocation: Invocation;
  readonly now: () => number;
}

const ROUTES: Routes<RouteContext, Routed> = {
  '/v1/inference': {
    POST: async (event, { binding, invocation, now }) => {
      const body = parseInferenceBody(rawBodyOf(event));
      const outcome = await binding.service.infer(binding.tenant, body, invocation.deadline);
      if (outcome.kind === 'replayed') binding.telemetry.metrics({ idempotentReplays: 1 });
      else emitRequestMetrics(binding.telemetry, outcome.summary, now() - invocation.started);
      return outcome.kind === 'failed' ? { failed: outcome.error } : answerResult(outcome);
    },
  },
  '/v1/requests/{requestId}': {
    GET: async (event, { binding }) =>
      readResult(await binding.service.getRequest(binding.tenant, event.pathParameters?.requestId ?? '')),
  },
  '/v1/usage': { GET: async (_event, { binding }) => readResult(await binding.service.getUsage(binding.tenant)) },
};

/** The routes' methods, for the check made before a request is bound. */
const ROUTE_METHODS = Object.fromEntries(Object.entries(ROUTES).map(([resource, m]) => [resource, Object.keys(m)]));

/** Whether an invocation is the schedule's reconciliation event. */
export function isReconcileEvent(event: unknown): boolean {
  return (event as { switchboard?: unknown } | null)?.switchboard === RECONCILE_EVENT.switchboard;
}

/** The inference API over its tenant binding: `serve` takes the invocation (tests and benchmarks pass their own). */
export function makeInferenceApi(deps: Omit<InferenceHandlerDeps, 'reconcile'>) {
  const now = deps.now ?? Date.now;

  /** The error envelope of a refused request; `counted`: its request metrics were already sent. */
  function refused(
    telemetry: Telemetry,
    e: DomainError,
    route: string,
    gatewayRequestId: string,
    counted: boolean,
  ): APIGatewayProxyResult {
    const requestId = e.requestId ?? gatewayRequestId;
    if (!counted) {
      telemetry.metrics(e.code === 'budget_exceeded' ? { rejected: 1, budgetRejected: 1 } : { rejected: 1 });
    }
    const status = ERROR_CODES[e.code];
    telemetry.log(status >= 500 ? 'ERROR' : 'INFO', 'request refused', {
      route,
      code: e.code,
      status,
      requestId,
      gatewayRequestId,
    });
    return errorResponse(e, requestId);
  }

  return {
    async serve(event: APIGatewayProxyEvent, invocation: Invocation): Promise<APIGatewayProxyResult> {
      const { gatewayRequestId, started } = invocation;
      const route = event.resource;
      let telemetry = deps.telemetry;
      try {
        checkRoute(ROUTE_METHODS, event);
        const binding = await deps.bind(event);
        telemetry = binding.telemetry;
        await binding.admit?.();
        const result = await dispatch(ROUTES, event, { binding, invocation, now });
        if ('failed' in result) return refused(telemetry, result.failed, route, gatewayRequestId, true);
        telemetry.log('INFO', 'request handled', {
          route,
          status: result.status,
          gatewayRequestId,
          ms: now() - started,
        });
        return json(result.status, result.body, result.headers);
      } catch (e) {
        if (e instanceof DomainError) return refused(telemetry, e, route, gatewayRequestId, false);
        // Name and message only: SDK and runtime errors carry no prompt text.
        telemetry.log('ERROR', 'unhandled error', {
          route,
          gatewayRequestId,
          error: (e as Error)?.name,
          errorMessage: String((e as Error)?.message ?? e).slice(0, 300),
        });
        return internalError(gatewayRequestId);
      }
    },
  };
}

/** The Lambda entry point over the binding: API Gateway REST proxy events, and the scheduled reconciliation. */
export function makeInferenceHandler(deps: InferenceHandlerDeps) {
  const api = makeInferenceApi(deps);
  const now = deps.now ?? Date.now;
  return async (event: APIGatewayProxyEvent, context?: Partial<Context>): Promise<APIGatewayProxyResult> => {
    // Its errors fail the invocation, so EventBridge retries it.
    if (isReconcileEvent(event)) return (await deps.reconcile(context)) as APIGatewayProxyResult;
    return api.serve(event, invocationOf(event, context, now));
  };
}
