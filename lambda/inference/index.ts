/**
 * Inference function: the tenant API's Lambda proxy handler. A thin adapter: it routes by resource and
 * method, parses the event, calls the core service and maps its result (or a domain error) to the HTTP
 * envelope. SDK clients are created once per container; the SDK's own configuration is honoured
 * (`AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, `AWS_ENDPOINT_URL_DYNAMODB`, credentials, region).
 */
import { randomUUID } from 'node:crypto';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { requireEnv } from '../shared/env';
import { ApiError } from '../shared/errors';
import { checkRoute, errorResponse, header, internalError, json } from '../shared/http';
import { REVIEW_ENV } from '../shared/review-schema';
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
import { makeDynamoReviewQueue } from './adapters/dynamo-review-queue';
import { makeSfnReviewHandOff } from './adapters/sfn-review-handoff';
import { confidenceScorer } from './core/confidence';
import { ROUTER_MODEL, scoreRequest } from './core/routing/router';
import { AcceptedRequestError, makeInferenceService, type RequestSummary } from './core/service';
import { parseInferenceBody } from './core/validate';

const config = TenantRuntimeConfigSchema.parse(JSON.parse(requireEnv(TENANT_CONFIG_ENV)));
// Every model call applies it; the function's IAM policy refuses a call that does not.
const guardrail = guardrailFromEnv();
const tableName = requireEnv(LEDGER_TABLE_ENV);
const telemetry = makeTelemetry({ tenantId: config.tenantId, service: 'inference' });
const bedrock = new BedrockRuntimeClient({ maxAttempts: 3 });
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 5 }), {
  marshallOptions: { removeUndefinedValues: true },
});
const service = makeInferenceService({
  config,
  invoker: makeBedrockInvoker(bedrock, { guardrail, preamble: config.preamble }),
  ledger: makeDynamoLedger(doc, tableName),
  clock: { now: Date.now },
  ids: { newRequestId: () => `req_${randomUUID().replace(/-/g, '')}` },
  route: (text) => scoreRequest(ROUTER_MODEL, text),
  confidence: confidenceScorer({ honourStated: config.escalation.honourStatedConfidence }),
  review: makeSfnReviewHandOff(new SFNClient({ maxAttempts: 3 }), requireEnv(REVIEW_ENV.stateMachineArn)),
  reviewQueue: makeDynamoReviewQueue(doc, tableName),
});

/** The embedded metrics of one answered (or failed after acceptance) inference request. */
function emitRequestMetrics(s: RequestSummary, latency: number): void {
  telemetry.metrics(
    {
      requests: 1,
      latency,
      modelLatency: s.modelLatencyMs,
      modelCalls: s.calls,
      fallbacks: s.fallbacks,
      escalations: s.escalations,
      reviews: s.review ? 1 : 0,
      inputTokens: s.inputTokens,
      outputTokens: s.outputTokens,
      costUsd: s.costUsd,
      ...(s.confidence !== null ? { confidence: s.confidence } : {}),
      ...(s.budgetUsedShare !== undefined ? { budgetUsedShare: s.budgetUsedShare } : {}),
      budgetDowngrades: s.budgetDowngrade ? 1 : 0,
      settlementsDeferred: s.settlementDeferred ? 1 : 0,
      ...(s.reviewHandOffFailed ? { reviewHandOffFailures: 1 } : {}),
      // A failure after the models answered (the review refused or unreachable) is not a model error.
      ...(s.status === 'failed' && !s.notReviewed ? { modelErrors: 1 } : {}),
      ...(s.notReviewed === 'review_queue_full' || s.notReviewed === 'review_rate_exceeded'
        ? { reviewsRefused: 1 }
        : {}),
      ...(s.accessDenied ? { modelAccessDenied: s.accessDenied } : {}),
      ...(s.guardrailInterventions ? { guardrailInterventions: s.guardrailInterventions } : {}),
    },
    { tier: s.tier },
  );
}

const ROUTES: Record<string, string[]> = {
  '/v1/inference': ['POST'],
  '/v1/requests/{requestId}': ['GET'],
  '/v1/usage': ['GET'],
};

/** The scheduled reconciliation (see RECONCILE_EVENT); its errors fail the invocation, so EventBridge retries. */
async function reconcileOnSchedule(): Promise<{ reconciled: Record<string, { settled: number; released: number }> }> {
  const reconciled = await service.reconcileRecent();
  const totals = Object.values(reconciled).reduce(
    (t, r) => ({ settled: t.settled + r.settled, released: t.released + r.released }),
    { settled: 0, released: 0 },
  );
  telemetry.log(totals.settled + totals.released ? 'WARN' : 'INFO', 'ledger reconciled', { ...totals, reconciled });
  return { reconciled };
}

/** Lambda entry point (API Gateway REST proxy integration, and the scheduled reconciliation). */
export async function handler(event: APIGatewayProxyEvent, context?: Partial<Context>): Promise<APIGatewayProxyResult> {
  if ((event as unknown as { switchboard?: string }).switchboard === RECONCILE_EVENT.switchboard) {
    return (await reconcileOnSchedule()) as unknown as APIGatewayProxyResult;
  }
  const started = Date.now();
  const gatewayRequestId = event.requestContext?.requestId ?? context?.awsRequestId ?? randomUUID();
  const remaining = context?.getRemainingTimeInMillis?.() ?? 29_000;
  const { deadlineMs, recordByMs } = requestDeadlines(started, remaining);
  const route = event.resource;
  try {
    checkRoute(ROUTES, event);
    let result: { status: number; body: unknown; headers?: Record<string, string>; summary?: RequestSummary };
    if (route === '/v1/inference') {
      const body = parseInferenceBody({
        contentType: header(event.headers, 'content-type'),
        body: event.body,
        isBase64Encoded: event.isBase64Encoded,
      });
      result = await service.infer(body, { deadlineMs, recordByMs });
      if (result.summary) emitRequestMetrics(result.summary, Date.now() - started);
      else if (result.headers?.['Idempotent-Replay'] === 'true') telemetry.metrics({ idempotentReplays: 1 });
    } else if (route === '/v1/usage') {
      result = await service.getUsage();
    } else {
      result = await service.getRequest(event.pathParameters?.requestId ?? '');
    }
    telemetry.log('INFO', 'request handled', {
      route,
      status: result.status,
      gatewayRequestId,
      ms: Date.now() - started,
    });
    return json(result.status, result.body, result.headers);
  } catch (e) {
    if (e instanceof ApiError) {
      const requestId = e instanceof AcceptedRequestError ? e.requestId : gatewayRequestId;
      const summary = (e as { summary?: RequestSummary }).summary;
      if (summary) emitRequestMetrics(summary, Date.now() - started);
      else telemetry.metrics(e.code === 'budget_exceeded' ? { rejected: 1, budgetRejected: 1 } : { rejected: 1 });
      telemetry.log(e.status >= 500 ? 'ERROR' : 'INFO', 'request refused', {
        route,
        code: e.code,
        status: e.status,
        requestId,
        gatewayRequestId,
      });
      return errorResponse(e, requestId);
    }
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
