/**
 * `Ledger` on one DynamoDB table per tenant (key design in lambda/shared/ledger-schema.ts). Every method is
 * a single-item read or conditional write.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LEDGER_KEYS, requestKey, usageKey } from '../../shared/ledger-schema';
import type { Ledger, RequestOutcome, RequestRecord, UsageCounters } from '../core/ports';

const COUNTERS = ['requests', 'inputTokens', 'outputTokens', 'costNanoUsd'] as const;
const TIER_PREFIX = 'tier_';

function isConditionFailure(e: unknown): boolean {
  return e instanceof ConditionalCheckFailedException || (e as Error)?.name === 'ConditionalCheckFailedException';
}

function stripKeys(item: Record<string, unknown>): RequestRecord {
  const { [LEDGER_KEYS.partitionKey]: _pk, [LEDGER_KEYS.sortKey]: _sk, ...rest } = item;
  return rest as unknown as RequestRecord;
}

/** Creates the ledger on a shared DocumentClient (created once per container by the caller). */
export function makeDynamoLedger(doc: DynamoDBDocumentClient, tableName: string): Ledger {
  return {
    async getRequest(requestId) {
      const res = await doc.send(
        new GetCommand({ TableName: tableName, Key: requestKey(requestId), ConsistentRead: true }),
      );
      return res.Item ? stripKeys(res.Item) : undefined;
    },

    async createRequest(record) {
      try {
        await doc.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...requestKey(record.requestId), ...record },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': LEDGER_KEYS.partitionKey },
          }),
        );
        return 'created';
      } catch (e) {
        if (isConditionFailure(e)) return 'exists';
        throw e;
      }
    },

    async reopenFailedRequest(requestId, at, runs) {
      try {
        await doc.send(
          new UpdateCommand({
            TableName: tableName,
            Key: requestKey(requestId),
            UpdateExpression: 'SET #status = :inProgress, #updatedAt = :at, #runs = :runs REMOVE #error',
            ConditionExpression: '#status = :failed',
            ExpressionAttributeNames: {
              '#status': 'status',
              '#updatedAt': 'updatedAt',
              '#runs': 'runs',
              '#error': 'error',
            },
            ExpressionAttributeValues: { ':inProgress': 'in_progress', ':failed': 'failed', ':at': at, ':runs': runs },
          }),
        );
        return true;
      } catch (e) {
        if (isConditionFailure(e)) return false;
        throw e;
      }
    },

    async finishRequest(requestId, outcome: RequestOutcome) {
      const names: Record<string, string> = { '#status': 'status' };
      const values: Record<string, unknown> = { ':inProgress': 'in_progress' };
      const sets: string[] = [];
      for (const [k, v] of Object.entries(outcome)) {
        if (v === undefined) continue;
        names[`#${k}`] = k;
        values[`:${k}`] = v;
        sets.push(`#${k} = :${k}`);
      }
      try {
        await doc.send(
          new UpdateCommand({
            TableName: tableName,
            Key: requestKey(requestId),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: '#status = :inProgress',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        return true;
      } catch (e) {
        if (isConditionFailure(e)) return false;
        throw e;
      }
    },

    async addUsage(month, tier, usage) {
      const add: Record<string, number> = {
        requests: 1,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        costNanoUsd: usage.costNanoUsd,
      };
      const names: Record<string, string> = {};
      const values: Record<string, number> = {};
      const parts: string[] = [];
      let i = 0;
      for (const [k, v] of Object.entries(add)) {
        for (const attr of [k, `${TIER_PREFIX}${tier}_${k}`]) {
          names[`#a${i}`] = attr;
          values[`:v${i}`] = v;
          parts.push(`#a${i} :v${i}`);
          i++;
        }
      }
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: usageKey(month),
          UpdateExpression: `ADD ${parts.join(', ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    },

    async getUsage(month): Promise<UsageCounters> {
      const res = await doc.send(new GetCommand({ TableName: tableName, Key: usageKey(month), ConsistentRead: true }));
      const item = (res.Item ?? {}) as Record<string, unknown>;
      const num = (k: string) => (typeof item[k] === 'number' ? (item[k] as number) : 0);
      const byTier: UsageCounters['byTier'] = {};
      for (const key of Object.keys(item)) {
        const m = /^tier_([a-z]+)_requests$/.exec(key);
        if (!m) continue;
        const t = m[1]!;
        const c = (k: (typeof COUNTERS)[number]) => num(`${TIER_PREFIX}${t}_${k}`);
        byTier[t] = {
          requests: c('requests'),
          inputTokens: c('inputTokens'),
          outputTokens: c('outputTokens'),
          costNanoUsd: c('costNanoUsd'),
        };
      }
      return {
        month,
        requests: num('requests'),
        inputTokens: num('inputTokens'),
        outputTokens: num('outputTokens'),
        costNanoUsd: num('costNanoUsd'),
        byTier,
      };
    },
  };
}
