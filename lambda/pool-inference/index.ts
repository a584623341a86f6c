/**
 * Inference function of a pool cell: the cell API's Lambda proxy handler (behind the pool authorizer) and the
 * cell ledger's scheduled reconciliation. The composition root of ./runtime.ts from the environment (POOL_ENV,
 * the pooled ledger's and the registry's table names, the cell's review state machine); SDK clients are created
 * once per container and honour the SDK's own configuration (`AWS_ENDPOINT_URL_*`, region).
 *
 * Credentials: the function's own (from the environment) read the registry's tenant items, call Bedrock, start
 * review workflows and assume the tenant-access role; the ledger is only ever reached with a tenant's session.
 */
import { randomUUID } from 'node:crypto';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { makeBedrockInvoker } from '../inference/adapters/bedrock-invoker';
import { confidenceScorer } from '../inference/core/confidence';
import type { ModelInvoker } from '../inference/core/ports';
import { ROUTER_MODEL, scoreRequest } from '../inference/core/routing/router';
import { LEDGER_MAX_ATTEMPTS, ledgerDocumentClient } from '../shared/dynamo';
import { requireEnv } from '../shared/env';
import { POOL_ENV } from '../shared/pool-runtime';
import { REGISTRY_TABLE_ENV } from '../shared/registry-schema';
import { REVIEW_ENV } from '../shared/review-schema';
import { makeSfnReviewHandOff } from '../shared/sfn-review-handoff';
import { makeTelemetry } from '../shared/telemetry';
import { TenantCredentials } from '../shared/tenant-credentials';
import { makeStsQueryClient } from '../shared/tenant-credentials-sts';
import { LEDGER_TABLE_ENV } from '../shared/tenant-runtime';
import { guardrailFor, parsePlanGuardrails } from './guardrails';
import { makePoolRuntime, NO_REVIEW_WORKFLOW } from './runtime';
import { makeDynamoTenantRegistry } from './tenant-directory';

const cellId = requireEnv(POOL_ENV.cellId);
/** The cell's review workflow; absent while pool cells have none (pooled tenants' review threshold is then 0). */
const reviewArn = process.env[REVIEW_ENV.stateMachineArn] || undefined;
const guardrails = parsePlanGuardrails(requireEnv(POOL_ENV.guardrails));
const bedrock = new BedrockRuntimeClient({ maxAttempts: 3 });
/** One invoker per plan guardrail. */
const invokers = new Map<string, ModelInvoker>();
/** The function's own DynamoDB client: the registry only. Tenants' ledger clients share its connections. */
const own = new DynamoDBClient({ maxAttempts: LEDGER_MAX_ATTEMPTS });

const runtime = makePoolRuntime({
  cellId,
  ledgerTable: requireEnv(LEDGER_TABLE_ENV),
  registry: makeDynamoTenantRegistry(ledgerDocumentClient(own), requireEnv(REGISTRY_TABLE_ENV)),
  credentials: new TenantCredentials({
    sts: makeStsQueryClient({ region: requireEnv('AWS_REGION'), credentials: fromEnv() }),
    roleArn: requireEnv(POOL_ENV.tenantAccessRoleArn),
  }),
  ledgerClient: (credentials) =>
    ledgerDocumentClient(
      new DynamoDBClient({ maxAttempts: LEDGER_MAX_ATTEMPTS, credentials, requestHandler: own.config.requestHandler }),
    ),
  invokerFor: (tenant) => {
    const guardrail = guardrailFor(tenant, guardrails);
    const key = `${guardrail.arn}:${guardrail.version}`;
    const invoker = invokers.get(key) ?? makeBedrockInvoker(bedrock, { guardrail });
    invokers.set(key, invoker);
    return invoker;
  },
  review: reviewArn ? makeSfnReviewHandOff(new SFNClient({ maxAttempts: 3 }), reviewArn) : NO_REVIEW_WORKFLOW,
  platformPreamble: process.env[POOL_ENV.platformPreamble] || undefined,
  clock: { now: Date.now },
  ids: { newRequestId: () => `req_${randomUUID().replace(/-/g, '')}` },
  route: (text) => scoreRequest(ROUTER_MODEL, text),
  confidenceFor: (t) => confidenceScorer({ honourStated: t.escalation.honourStatedConfidence }),
  telemetryFor: (tenantId) => makeTelemetry({ tenantId, cellId, service: 'pool-inference' }),
  telemetry: makeTelemetry({ tenantId: cellId, cellId, service: 'pool-inference' }),
});

/** Lambda entry point (API Gateway REST proxy integration behind the pool authorizer, and the reconciliation). */
export function handler(event: APIGatewayProxyEvent, context?: Partial<Context>): Promise<APIGatewayProxyResult> {
  return runtime.handler(event, context);
}
