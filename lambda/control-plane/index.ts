/**
 * Control plane API function (API Gateway proxy, IAM-authorized routes under /v1/tenants): the composition
 * root. It builds the registry adapter once per container and hands it to the handler (http/handler.ts).
 */
import { ledgerDocumentClient } from '../shared/dynamo';
import { requireEnv } from '../shared/env';
import { newApiKey, REGISTRY_TABLE_ENV } from '../shared/registry-schema';
import { makeTelemetry } from '../shared/telemetry';
import { makeDynamoRegistry } from './adapters/dynamo-registry';
import { CONTROL_PLANE_ENV, poolCellsFrom } from './config';
import { makeControlPlaneHandler } from './http/handler';

const registry = makeDynamoRegistry(ledgerDocumentClient(), requireEnv(REGISTRY_TABLE_ENV));
const cells = poolCellsFrom(requireEnv(CONTROL_PLANE_ENV.cells));

/** Lambda entry point. */
export const handler = makeControlPlaneHandler(
  { registry, cells, now: Date.now, newApiKey },
  makeTelemetry({ tenantId: 'control-plane', service: 'control-plane' }),
);
