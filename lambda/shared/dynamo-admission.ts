/**
 * The admission counter of pooled tenants on DynamoDB: one item per tenant and window, under the tenant's own
 * pooled partition key (`T#<tenant>#ADMIT`, lambda/shared/pool-keys.ts, so the tenant-scoped session that counts
 * it may write nothing else's), counted by a conditional `ADD` (atomic; no read, no transaction).
 * Items expire through the table's TTL attribute a day after their window ends.
 */
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './dynamo';
import { LEDGER_KEYS } from './ledger-schema';
import { poolPartitionKey } from './pool-keys';
import type { AdmissionCounter, AdmissionWindow } from './tenant-admission';

/** Key of a tenant's admission window item. */
export function admissionKey(tenantId: string, window: AdmissionWindow) {
  return { pk: poolPartitionKey(tenantId, 'ADMIT'), sk: window.key };
}

export function makeDynamoAdmissionCounter(doc: DynamoDBDocumentClient, tableName: string): AdmissionCounter {
  return {
    async take(tenantId, window) {
      try {
        await doc.send(
          new UpdateCommand({
            TableName: tableName,
            Key: admissionKey(tenantId, window),
            UpdateExpression: 'ADD #n :one SET #ttl = if_not_exists(#ttl, :ttl)',
            ConditionExpression: 'attribute_not_exists(#n) OR #n < :limit',
            ExpressionAttributeNames: { '#n': 'count', '#ttl': LEDGER_KEYS.ttlAttribute },
            ExpressionAttributeValues: {
              ':one': 1,
              ':limit': window.limit,
              ':ttl': Math.ceil(window.endsAtMs / 1_000) + 86_400,
            },
          }),
        );
        return true;
      } catch (e) {
        if (isConditionFailure(e)) return false;
        throw e;
      }
    },
  };
}
