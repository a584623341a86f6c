/**
 * Control plane function: the composition root. It serves two kinds of events with one bundle:
 * - API Gateway proxy events of the control plane API (IAM-authorized routes under /v1/tenants, http/handler.ts);
 * - CloudFormation custom resource events of {@link SILO_REGISTRATION} (the silo tenants' registration,
 *   http/silo-registration.ts), answered by PUT to their pre-signed ResponseURL.
 * Clients and adapters are built once per container.
 */

import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { LEDGER_MAX_ATTEMPTS, ledgerDocumentClient } from '../shared/dynamo';
import { requireEnv } from '../shared/env';
import { newApiKey, REGISTRY_TABLE_ENV } from '../shared/registry-schema';
import { makeTelemetry } from '../shared/telemetry';
import { makeStsQueryClient } from '../shared/tenant-credentials-sts';
import { makeAuthorizerCacheFlusher } from './adapters/apigateway-authorizer-cache';
import { makeCognitoReviewerGroups } from './adapters/cognito-reviewer-groups';
import { makeDynamoRegistry } from './adapters/dynamo-registry';
import { makePooledLedger } from './adapters/pooled-ledger';
import { makeSnsReviewerSubscriptions } from './adapters/sns-reviewer-subscriptions';
import { CONTROL_PLANE_ENV, poolCellsFrom } from './config';
import { DEFAULT_PURGE_BUDGET } from './core/purge';
import { makeControlPlaneHandler } from './http/handler';
import { isCustomResourceEvent, makeSiloRegistrationHandler } from './http/silo-registration';

const region = requireEnv('AWS_REGION');
const credentials = fromEnv();
const dynamo = new DynamoDBClient({ maxAttempts: LEDGER_MAX_ATTEMPTS });
const registry = makeDynamoRegistry(ledgerDocumentClient(dynamo), requireEnv(REGISTRY_TABLE_ENV));
const cells = poolCellsFrom(requireEnv(CONTROL_PLANE_ENV.cells));
const telemetry = makeTelemetry({ tenantId: 'control-plane', service: 'control-plane' });
const deps = {
  registry,
  cells,
  now: Date.now,
  newApiKey,
  authorizerCache: makeAuthorizerCacheFlusher({ region, credentials }),
  ledger: makePooledLedger({
    scanClient: dynamo,
    sts: makeStsQueryClient({ region, credentials }),
    clientConfig: { region },
  }),
  purgeBudget: DEFAULT_PURGE_BUDGET,
  reviewerSubscriptions: makeSnsReviewerSubscriptions(new SNSClient({ maxAttempts: 3 })),
  ...(process.env[CONTROL_PLANE_ENV.reviewerUserPoolId]
    ? {
        reviewerGroups: makeCognitoReviewerGroups(
          new CognitoIdentityProviderClient({ maxAttempts: 3 }),
          requireEnv(CONTROL_PLANE_ENV.reviewerUserPoolId),
        ),
      }
    : {}),
};
const api = makeControlPlaneHandler(deps, telemetry);
const silo = makeSiloRegistrationHandler(
  { registry, now: Date.now, cells, authorizerCache: deps.authorizerCache },
  telemetry,
);

/** Lambda entry point. */
export async function handler(event: unknown, context?: Partial<Context>) {
  if (isCustomResourceEvent(event)) return silo(event);
  return api(event as APIGatewayProxyEvent, context);
}
