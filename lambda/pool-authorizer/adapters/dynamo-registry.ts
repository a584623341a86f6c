/**
 * The tenant registry seen by the authorizer: {@link lookupApiKey} (lambda/shared/registry-lookup.ts), the same
 * read the control plane's tests hold to its writes. A key is accepted only when its item is `active` and its
 * tenant still names it; what comes back is the tenant's status. A status the authorizer does not know reads as
 * suspended: refused, never let through on a guess.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { lookupApiKey } from '../../shared/registry-lookup';
import { TENANT_STATUSES, type TenantStatus } from '../../shared/registry-schema';
import type { ApiKeyRecord, ApiKeyRegistry } from '../core/ports';

const isStatus = (v: unknown): v is TenantStatus => TENANT_STATUSES.includes(v as TenantStatus);

export function makeDynamoApiKeyRegistry(doc: DynamoDBDocumentClient, tableName: string): ApiKeyRegistry {
  return {
    async lookupApiKey(hash: string): Promise<ApiKeyRecord | undefined> {
      const found = await lookupApiKey(doc, tableName, hash);
      if (!found) return undefined;
      return { tenantId: found.tenantId, status: isStatus(found.status) ? found.status : 'suspended' };
    },
  };
}
