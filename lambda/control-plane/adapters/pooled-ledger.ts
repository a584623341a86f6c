/**
 * A pool cell's ledger as the purge sees it (core/purge.ts). Two principals, on purpose:
 *
 * - the Scan is made with the control plane's own credentials, which IAM allows only with `Select =
 *   SPECIFIC_ATTRIBUTES` and attributes among `pk`, `sk` (lambda/shared/control-plane-iam.ts): keys, never data;
 * - the deletes are made with a session of the cell's tenant-access role tagged `switchboard:tenant=<tenant>`
 *   (lambda/shared/tenant-credentials.ts, over the control plane's STS adapter), which IAM allows only on keys that
 *   start `T#<tenant>#`: a bug that names another tenant's key is refused by IAM, not by this code.
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { LEDGER_KEYS } from '../../shared/ledger-schema';
import { poolTenantPrefix } from '../../shared/pool-keys';
import type { PoolCellEnv } from '../../shared/pool-runtime';
import { type StsPort, TenantCredentials } from '../../shared/tenant-credentials';
import type { LedgerKey, PooledLedgerPort } from '../core/ports';

/** Props of {@link makePooledLedger}. */
export interface PooledLedgerProps {
  /** The control plane's own client (its role): the keys-only Scan. */
  readonly scanClient: DynamoDBClient;
  /** STS, for the tenant-tagged sessions that delete. */
  readonly sts: StsPort;
  /** Configuration of the tenant sessions' clients (region; an endpoint in tests). */
  readonly clientConfig?: DynamoDBClientConfig;
  /** Retries of a batch's unprocessed items. @default 8 */
  readonly maxBatchRetries?: number;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** BatchWriteItem's limit of requests per call. */
const BATCH = 25;
const { partitionKey: PK, sortKey: SK } = LEDGER_KEYS;

const toKey = (k: LedgerKey): Record<string, AttributeValue> => ({ [PK]: { S: k.pk }, [SK]: { S: k.sk } });
const fromKey = (item: Record<string, AttributeValue>): LedgerKey => ({ pk: item[PK]?.S ?? '', sk: item[SK]?.S ?? '' });

/** The {@link PooledLedgerPort} on DynamoDB. */
export function makePooledLedger(props: PooledLedgerProps): PooledLedgerPort {
  const credentialsByRole = new Map<string, TenantCredentials>();
  const sleep = props.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const credentialsOf = (roleArn: string) => {
    let c = credentialsByRole.get(roleArn);
    if (!c) {
      c = new TenantCredentials({ sts: props.sts, roleArn });
      credentialsByRole.set(roleArn, c);
    }
    return c;
  };
  return {
    async scanTenantKeys(cell, tenantId, start, pageSize) {
      const r = await props.scanClient.send(
        new ScanCommand({
          TableName: requireField(cell, 'ledgerTable'),
          Select: 'SPECIFIC_ATTRIBUTES',
          ProjectionExpression: '#pk, #sk',
          FilterExpression: 'begins_with(#pk, :prefix)',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':prefix': { S: poolTenantPrefix(tenantId) } },
          Limit: pageSize,
          ...(start ? { ExclusiveStartKey: toKey(start) } : {}),
        }),
      );
      return {
        keys: (r.Items ?? []).map(fromKey),
        ...(r.LastEvaluatedKey ? { next: fromKey(r.LastEvaluatedKey) } : {}),
      };
    },
    async deleteTenantItems(cell, tenantId, keys) {
      const table = requireField(cell, 'ledgerTable');
      const credentials = credentialsOf(requireField(cell, 'tenantAccessRoleArn')).forTenant(tenantId);
      const client = new DynamoDBClient({ maxAttempts: 5, ...props.clientConfig, credentials });
      try {
        for (let i = 0; i < keys.length; i += BATCH) {
          let requests = keys.slice(i, i + BATCH).map((k) => ({ DeleteRequest: { Key: toKey(k) } }));
          for (let attempt = 0; requests.length; attempt++) {
            if (attempt > (props.maxBatchRetries ?? 8)) {
              throw new Error(`${requests.length} delete(s) left unprocessed by DynamoDB after retries`);
            }
            if (attempt) await sleep(Math.min(50 * 2 ** attempt, 2000));
            const r = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
            requests = (r.UnprocessedItems?.[table] ?? []) as typeof requests;
          }
        }
      } finally {
        client.destroy();
      }
    },
  };
}

function requireField(cell: PoolCellEnv, field: 'ledgerTable' | 'tenantAccessRoleArn'): string {
  const v = cell[field];
  if (!v) throw new Error(`cell ${cell.id} has no ${field} in POOL_CELLS`);
  return v;
}
