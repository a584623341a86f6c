/**
 * Inference function: the tenant API's Lambda proxy handler, and the ledger's scheduled reconciliation.
 * A thin adapter: it routes by resource and method (`../shared/http`), parses the body (`http/request.ts`),
 * hands this function's tenant and the request to the core service (`core/service.ts`) and maps its outcome,
 * or a domain error, to the response (`http/responses.ts`). SDK clients and the service are created once per
 * container; the SDK's own configuration is honoured (`AWS_ENDPOINT_URL_BEDROCK_RUNTIME`,
 * `AWS_ENDPOINT_URL_DYNAMODB`, credentials, region).
 */
import { randomUUID } from 'node:crypto';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { makeDynamoReviewQueue } from '../shared/dynamo-review-queue';
import { requireEnv } from '../shared/env';
import { DomainError, ERROR_CODES } from '../shared/errors';
import { dispatch, errorResponse, internalError, json, type Routes, rawBodyOf } from '../shared/http';
import { REVIEW_ENV } from '../shared/review-schema';
import { makeSfnReviewHandOff } from '../shared/sfn-review-handoff';
import { makeTelemetry } from '../shared/telemetry';
import {
  guardrailFromEnv,
  LEDGER_TABLE_ENV,
  RECONCILE_EVENT,
  TENANT_CONFIG_ENV,
  TenantRuntimeConfigSchema,
} from '../shared/tenant-runtime';
import { requestDeadlines } from '../shared/timing';
import { makeBedrockInvoker } from './adapters/bedrock-invoker';
import { makeDynamoLedger } from './adapters/dynamo-ledger';
import { confidenceScorer } from './core/confidence';
import { ROUTER_MODEL, scoreRequest } from './core/routing/router';
import { makeInferenceService } from './core/service';
import { parseInferenceBody } from './http/request';
import { answerResult, type HttpResult, readResult } from './http/responses';
import { emitRequestMetrics } from './metrics';

/** This (silo) function's one tenant. */
const tenant = TenantRuntimeConfigSchema.parse(JSON.parse(requireEnv(TENANT_CONFIG_ENV)));
// Every model call applies it; the function's IAM policy refuses a call that does not.
const guardrail = guardrailFromEnv();
const tableName = requireEnv(LEDGER_TABLE_ENV);
const telemetry = makeTelemetry({ tenantId: tenant.tenantId, service: 'inference' });
const bedrock = new BedrockRuntimeClient({ maxAttempts: 3 });
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 5 }), {
  marshallOptions: { removeUndefinedValues: true },
});
const service = makeInferenceService({
  invoker: makeBedrockInvoker(bedrock, { guardrail }),
  ledger: makeDynamoLedger(doc, tableName),
  clock: { now: Date.now },
  ids: { newRequestId: () => `req_${randomUUID().replace(/-/g, '')}` },
  route: (text) => scoreRequest(ROUTER_MODEL, text),
  confidenceFor: (t) => confidenceScorer({ honourStated: t.escalation.honourStatedConfidence }),
  review: makeSfnReviewHandOff(new SFNClient({ maxAttempts: 3 }), requireEnv(REVIEW_ENV.stateMachineArn)),
  reviewQueue: makeDynamoReviewQueue(doc, tableName),
});

/** One invocation's timing. */
interface Invocation {
  readonly started: number;
  /** Milliseconds the function has left when the invocation starts. */
  readonly remaining: number;
}

/** What a route answers: a response, or the error of a request the core accepted (its metrics already sent). */
type Routed = HttpResult | { readonly failed: DomainError };

const ROUTES: Routes<Invocation, Routed> = {
  '/v1/inference': {
    POST: async (event, { started, remaining }) => {
      const body = parseInferenceBody(rawBodyOf(event));
      const outcome = await service.infer(tenant, body, requestDeadlines(started, remaining));
      if (outcome.kind === 'replayed') telemetry.metrics({ idempotentReplays: 1 });
      else emitRequestMetrics(telemetry, outcome.summary, Date.now() - started);
      return outcome.kind === 'failed' ? { failed: outcome.error } : answerResult(outcome);
    },
  },
  '/v1/requests/{requestId}': {
    GET: async (event) => readResult(await service.getRequest(tenant, event.pathParameters?.requestId ?? '')),
  },
  '/v1/usage': { GET: async () => readResult(await service.getUsage(tenant)) },
};

/** The scheduled reconciliation (see RECONCILE_EVENT); its errors fail the invocation, so EventBridge retries. */
export async function reconcileHandler(): Promise<{
  reconciled: Record<string, { settled: number; released: number }>;
}> {
  const reconciled = await service.reconcileRecent();
  const totals = Object.values(reconciled).reduce(
    (t, r) => ({ settled: t.settled + r.settled, released: t.released + r.released }),
    { settled: 0, released: 0 },
  );
  telemetry.log(totals.settled + totals.released ? 'WARN' : 'INFO', 'ledger reconciled', { ...totals, reconciled });
  return { reconciled };
}

/** The error envelope of a refused request; `counted`: its request metrics were already sent. */
function refused(e: DomainError, route: string, gatewayRequestId: string, counted: boolean): APIGatewayProxyResult {
  const requestId = e.requestId ?? gatewayRequestId;
  if (!counted) telemetry.metrics(e.code === 'budget_exceeded' ? { rejected: 1, budgetRejected: 1 } : { rejected: 1 });
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

/** Lambda entry point (API Gateway REST proxy integration, and the scheduled reconciliation). */
export async function handler(event: APIGatewayProxyEvent, context?: Partial<Context>): Promise<APIGatewayProxyResult> {
  if ((event as unknown as { switchboard?: string }).switchboard === RECONCILE_EVENT.switchboard) {
    return (await reconcileHandler()) as unknown as APIGatewayProxyResult;
  }
  const started = Date.now();
  const gatewayRequestId = event.requestContext?.requestId ?? context?.awsRequestId ?? randomUUID();
  const remaining = context?.getRemainingTimeInMillis?.() ?? 29_000;
  const route = event.resource;
  try {
    const result = await dispatch(ROUTES, event, { started, remaining });
    if ('failed' in result) return refused(result.failed, route, gatewayRequestId, true);
    telemetry.log('INFO', 'request handled', {
      route,
      status: result.status,
      gatewayRequestId,
      ms: Date.now() - started,
    });
    return json(result.status, result.body, result.headers);
  } catch (e) {
    if (e instanceof DomainError) return refused(e, route, gatewayRequestId, false);
    // Name and message only: SDK and runtime errors carry no prompt text.
    telemetry.log('ERROR', 'unhandled error', {
      route,
      gatewayRequestId,
      error: (e as Error)?.name,
      errorMessage: String((e as Error)?.message ?? e).slice(0, 300),
    });
    return internalError(gatewayRequestId);
  }
}
