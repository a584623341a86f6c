/**
 * Inference function of a silo tenant: the tenant API's Lambda proxy handler, and the ledger's scheduled
 * reconciliation. The composition root of the shared handler (`http/handler.ts`: routes, body, core service,
 * HTTP mapping, metrics) for this function's one tenant, read from its environment at init. SDK clients and the
 * service are created once per container; the SDK's own configuration is honoured
 * (`AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, `AWS_ENDPOINT_URL_DYNAMODB`, credentials, region).
 */
import { randomUUID } from 'node:crypto';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ledgerDocumentClient } from '../shared/dynamo';
import { makeDynamoReviewQueue } from '../shared/dynamo-review-queue';
import { requireEnv } from '../shared/env';
import { REVIEW_ENV } from '../shared/review-schema';
import { makeSfnReviewHandOff } from '../shared/sfn-review-handoff';
import { makeTelemetry } from '../shared/telemetry';
import {
  guardrailFromEnv,
  LEDGER_TABLE_ENV,
  TENANT_CONFIG_ENV,
  TenantRuntimeConfigSchema,
} from '../shared/tenant-runtime';
import { makeBedrockInvoker } from './adapters/bedrock-invoker';
import { makeDynamoLedger } from './adapters/dynamo-ledger';
import { confidenceScorer } from './core/confidence';
import { ROUTER_MODEL, scoreRequest } from './core/routing/router';
import { makeInferenceService } from './core/service';
import { makeInferenceHandler, type TenantBinding } from './http/handler';

/** This (silo) function's one tenant. */
const tenant = TenantRuntimeConfigSchema.parse(JSON.parse(requireEnv(TENANT_CONFIG_ENV)));
// Every model call applies it; the function's IAM policy refuses a call that does not.
const guardrail = guardrailFromEnv();
const tableName = requireEnv(LEDGER_TABLE_ENV);
const telemetry = makeTelemetry({ tenantId: tenant.tenantId, service: 'inference' });
const bedrock = new BedrockRuntimeClient({ maxAttempts: 3 });
const doc = ledgerDocumentClient();
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
/** Every request is this tenant's (API Gateway's usage plan has admitted it). */
const binding: TenantBinding = { tenant, service, telemetry };

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

const handle = makeInferenceHandler({ bind: async () => binding, telemetry, reconcile: reconcileHandler });

/** Lambda entry point (API Gateway REST proxy integration, and the scheduled reconciliation). */
export function handler(event: APIGatewayProxyEvent, context?: Partial<Context>): Promise<APIGatewayProxyResult> {
  return handle(event, context);
}
