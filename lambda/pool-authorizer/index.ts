/**
 * Pool authorizer: API Gateway's REQUEST Lambda authorizer for a pool cell's REST API. It reads the caller's
 * `x-api-key` header, finds the key's tenant in the tenant registry by the key's SHA-256 and answers with an IAM
 * policy: allow with `context.tenantId` (the handler reads it as `requestContext.authorizer.tenantId`), or deny
 * (403 `forbidden`). A request without a key is `Unauthorized` (401 `unauthorized`). The envelopes are the API's
 * gateway responses (lib/constructs/pool/pool-authorizer.ts). The key is never logged.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { ledgerDocumentClient } from '../shared/dynamo';
import { requireEnv } from '../shared/env';
import { makeDynamoApiKeyRegistry } from './adapters/dynamo-registry';
import { makeHandler, REGISTRY_TABLE_ENV } from './authorizer';
import { LookupCache } from './core/lookup-cache';

const handle = makeHandler({
  registry: makeDynamoApiKeyRegistry(ledgerDocumentClient(), requireEnv(REGISTRY_TABLE_ENV)),
  cache: new LookupCache({ now: Date.now }),
});

/** The deployed handler: the registry table from the environment, clients created once per container. */
export const handler = (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => handle(event);
