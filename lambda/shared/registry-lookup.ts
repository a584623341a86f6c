/**
 * The one read that decides whether an API key is accepted, shared by the control plane (its tests and
 * benchmark) and the pool authorizer: the key item (by the key's SHA-256) must be `active`, and the tenant item it
 * names must still name that hash (a rotated-out or half-written key is not accepted). The tenant's own status
 * (`active | suspended | deleted`) is returned for the caller to act on. Strongly consistent reads.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { type ApiKeyItem, apiKeyKey, type TenantItem, type TenantStatus, tenantKey } from './registry-schema';

/** What the authorizer learns from a key: its tenant, the tenant's status and where it is served. */
export interface ApiKeyLookup {
  readonly tenantId: string;
  readonly status: TenantStatus;
  readonly cell: string;
}

/**
 * The tenant an API key (by its SHA-256) belongs to, or undefined when the key is not accepted: unknown, `pending`
 * (onboarding or rotation not finished), `revoked`, or no longer the key its tenant names. Reads strongly
 * consistent, so a rotation, suspension or offboarding is seen by the next lookup. The caller refuses a tenant
 * whose `status` is not `active` (403).
 */
export async function lookupApiKey(
  doc: DynamoDBDocumentClient,
  table: string,
  keyHash: string,
): Promise<ApiKeyLookup | undefined> {
  const key = (await doc.send(new GetCommand({ TableName: table, Key: apiKeyKey(keyHash), ConsistentRead: true })))
    .Item as ApiKeyItem | undefined;
  if (key?.status !== 'active') return undefined;
  const tenant = (
    await doc.send(new GetCommand({ TableName: table, Key: tenantKey(key.tenantId), ConsistentRead: true }))
  ).Item as TenantItem | undefined;
  if (!tenant || tenant.keyHash !== keyHash) return undefined;
  return { tenantId: tenant.tenantId, status: tenant.status, cell: tenant.cell };
}

/** {@link lookupApiKey} bound to a client and table: `lookup(sha256)`, the function the authorizer calls. */
export function makeApiKeyLookup(doc: DynamoDBDocumentClient, table: string) {
  return (keyHash: string) => lookupApiKey(doc, table, keyHash);
}
