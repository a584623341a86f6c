/**
 * The composition shared by a pool cell's two review functions (lambda/pool-review-steps, lambda/pool-review-api):
 * their environment (POOL_ENV.cellId and tenantAccessRoleArn, the pooled ledger, the registry, REVIEW_ENV.keyId: the
 * cell ledger's key, which encrypts task tokens) and the adapters built once per container on it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { makeDynamoTenantRegistry } from '../pool-inference/tenant-directory';
import { makeKmsTokenCipher } from '../review/adapters/kms-token-cipher';
import { LEDGER_MAX_ATTEMPTS, ledgerDocumentClient } from '../shared/dynamo';
import { requireEnv } from '../shared/env';
import { POOL_ENV } from '../shared/pool-runtime';
import { REGISTRY_TABLE_ENV } from '../shared/registry-schema';
import { REVIEW_ENV } from '../shared/review-schema';
import { makeTelemetry } from '../shared/telemetry';
import { TenantCredentials } from '../shared/tenant-credentials';
import { makeStsQueryClient } from '../shared/tenant-credentials-sts';
import { LEDGER_TABLE_ENV } from '../shared/tenant-runtime';
import type { PoolReviewDeps } from './runtime';

/** The deps of a cell review function named `service` (its log lines and metrics). */
export function poolReviewDepsFromEnv(service: 'review-steps' | 'review-api'): PoolReviewDeps {
  const cellId = requireEnv(POOL_ENV.cellId);
  // The function's own client: the registry only. Tenants' ledger clients share its connections.
  const own = new DynamoDBClient({ maxAttempts: LEDGER_MAX_ATTEMPTS });
  const kms = new KMSClient({ maxAttempts: 3 });
  const keyId = requireEnv(REVIEW_ENV.keyId);
  return {
    cellId,
    registry: makeDynamoTenantRegistry(ledgerDocumentClient(own), requireEnv(REGISTRY_TABLE_ENV)),
    ledgerTable: requireEnv(LEDGER_TABLE_ENV),
    credentials: new TenantCredentials({
      sts: makeStsQueryClient({ region: requireEnv('AWS_REGION'), credentials: fromEnv() }),
      roleArn: requireEnv(POOL_ENV.tenantAccessRoleArn),
    }),
    ledgerClient: (credentials) =>
      ledgerDocumentClient(
        new DynamoDBClient({
          maxAttempts: LEDGER_MAX_ATTEMPTS,
          credentials,
          requestHandler: own.config.requestHandler,
        }),
      ),
    cipherFor: (tenantId) => makeKmsTokenCipher(kms, keyId, tenantId),
    telemetryFor: (tenantId) => makeTelemetry({ tenantId, cellId, service }),
    telemetry: makeTelemetry({ tenantId: cellId, cellId, service }),
    now: Date.now,
  };
}
