/** The tenant registry's API key items in DynamoDB (layout: lambda/shared/api-key-item.ts). */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { API_KEY_ITEM, API_KEY_STATUSES, type ApiKeyStatus, apiKeyItemKey } from '../../shared/api-key-item';
import type { ApiKeyRecord, ApiKeyRegistry } from '../core/ports';

const isStatus = (v: unknown): v is ApiKeyStatus => API_KEY_STATUSES.includes(v as ApiKeyStatus);

/**
 * Reads `{pk: 'KEY#<hash>', sk: 'KEY'}` with a strongly consistent read (a key suspended a moment ago is read
 * as suspended). An item without a tenant id or with a status it does not know reads as suspended: refused,
 * never let through on a guess.
 */
export function makeDynamoApiKeyRegistry(doc: DynamoDBDocumentClient, tableName: string): ApiKeyRegistry {
  return {
    async lookupApiKey(hash: string): Promise<ApiKeyRecord | undefined> {
      const out = await doc.send(
        new GetCommand({
          TableName: tableName,
          Key: apiKeyItemKey(hash),
          ConsistentRead: true,
          ProjectionExpression: '#t, #s',
          ExpressionAttributeNames: { '#t': API_KEY_ITEM.tenantId, '#s': API_KEY_ITEM.status },
        }),
      );
      if (out.Item === undefined) return undefined;
      const tenantId = out.Item[API_KEY_ITEM.tenantId];
      const status = out.Item[API_KEY_ITEM.status];
      if (typeof tenantId !== 'string' || tenantId === '') return { tenantId: '', status: 'suspended' };
      return { tenantId, status: isStatus(status) ? status : 'suspended' };
    },
  };
}
