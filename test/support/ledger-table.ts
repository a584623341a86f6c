/**
 * Ledger tables on dynalite for the tests and benchmarks: the key schema of lambda/shared/ledger-schema.ts and the
 * review index of lambda/shared/review-schema.ts (REVIEW_GSI), as the TenantData construct makes them for a silo
 * tenant and a pool cell alike, and (for the move tests) a tenant's ledger items in either layout: the pooled one has
 * every `pk` and every `gsi1pk` under `T#<tenant>#` (lambda/shared/pool-keys.ts).
 */
import {
  type AttributeValue,
  CreateTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { LEDGER_KEYS, requestKey, usageKey } from '../../lambda/shared/ledger-schema';
import { poolTenantPrefix } from '../../lambda/shared/pool-keys';
import { REVIEW_GSI } from '../../lambda/shared/review-schema';

export type Item = Record<string, AttributeValue>;

/** Creates a ledger table (pk, sk, and the review index gsi1 on gsi1pk, gsi1sk). */
export async function createLedgerTable(client: DynamoDBClient, name: string): Promise<void> {
  const S = 'S' as const;
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: LEDGER_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: LEDGER_KEYS.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: LEDGER_KEYS.partitionKey, AttributeType: S },
        { AttributeName: LEDGER_KEYS.sortKey, AttributeType: S },
        { AttributeName: REVIEW_GSI.partitionKey, AttributeType: S },
        { AttributeName: REVIEW_GSI.sortKey, AttributeType: S },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: REVIEW_GSI.name,
          KeySchema: [
            { AttributeName: REVIEW_GSI.partitionKey, KeyType: 'HASH' },
            { AttributeName: REVIEW_GSI.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
}

/**
 * `requests` request records (every third one waiting for its review hand-off, so it carries the review index), a
 * decided review in the index, the open-reviews item and the month's usage counter, keyed as a silo ledger keys
 * them.
 * Values of every DynamoDB type the ledger uses (S, N, M, L, SS, BOOL, NULL, B).
 */
export function siloLedgerItems(tenant: string, requests: number, month = '2026-12'): Item[] {
  const items: Item[] = [];
  for (let i = 1; i <= requests; i++) {
    const key = requestKey(`req_${tenant}_${i}`);
    items.push({
      pk: { S: key.pk! },
      sk: { S: key.sk! },
      status: { S: i % 3 === 0 ? 'pending_review' : 'completed' },
      output: { S: `answer ${i} for ${tenant}` },
      costNanoUsd: { N: String(1_000_000 + i * 7) },
      usage: { M: { inputTokens: { N: String(10 + i) }, outputTokens: { N: String(20 + i) } } },
      tiers: { L: [{ S: 'small' }, { S: 'large' }] },
      cached: { BOOL: i % 2 === 0 },
      error: { NULL: true },
      expiresAt: { N: String(1_800_000_000 + i) },
      ...(i % 3 === 0
        ? {
            [REVIEW_GSI.partitionKey]: { S: 'HANDOFF#pending' },
            [REVIEW_GSI.sortKey]: { S: `2026-12-01T00:00:0${i % 10}Z#${i}` },
          }
        : {}),
    });
  }
  items.push({
    pk: { S: `REV#rev_${tenant}_1` },
    sk: { S: 'REVIEW' },
    status: { S: 'approved' },
    [REVIEW_GSI.partitionKey]: { S: 'REVIEWS#decided' },
    [REVIEW_GSI.sortKey]: { S: `2026-12-01T00:00:00Z#rev_${tenant}_1` },
    reviewers: { SS: [`a@${tenant}.example.com`, `b@${tenant}.example.com`] },
    digest: { B: Buffer.from(`digest of ${tenant}`) },
  });
  items.push({ pk: { S: 'REVQ#open' }, sk: { S: 'REVQ' }, count: { N: '1' } });
  const usage = usageKey(month);
  items.push({
    pk: { S: usage.pk! },
    sk: { S: usage.sk! },
    committed: { N: String(requests * 1_000_000) },
    reserved: { N: '0' },
    requests: { N: String(requests) },
  });
  return items;
}

/** The same items as a pool cell keys them: `pk` and `gsi1pk` under `T#<tenant>#`. */
export function pooled(tenant: string, items: readonly Item[]): Item[] {
  const prefix = poolTenantPrefix(tenant);
  return items.map((i) => ({
    ...i,
    pk: { S: `${prefix}${i.pk!.S}` },
    ...(i[REVIEW_GSI.partitionKey]
      ? { [REVIEW_GSI.partitionKey]: { S: `${prefix}${i[REVIEW_GSI.partitionKey]!.S}` } }
      : {}),
  }));
}

export async function putItems(client: DynamoDBClient, table: string, items: readonly Item[]): Promise<void> {
  for (const Item of items) await client.send(new PutItemCommand({ TableName: table, Item }));
}

/** Every item of a table (a test's own read). */
export async function scanAll(client: DynamoDBClient, table: string): Promise<Item[]> {
  const out: Item[] = [];
  let start: Item | undefined;
  do {
    const r = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }));
    out.push(...(r.Items ?? []));
    start = r.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Items sorted by key, binary values as base64 (for equality assertions). */
export function sorted(items: readonly Item[]): unknown[] {
  return [...items]
    .sort((a, b) => `${a.pk?.S}\u0000${a.sk?.S}`.localeCompare(`${b.pk?.S}\u0000${b.sk?.S}`))
    .map((i) =>
      JSON.parse(
        JSON.stringify(i, (_k, v) =>
          v instanceof Uint8Array || v?.type === 'Buffer' ? Buffer.from(v.data ?? v).toString('base64') : v,
        ),
      ),
    );
}

/** Item counts by tenant prefix (`silo` for an unprefixed key). */
export function countsByTenant(items: readonly Item[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) {
    const pk = i.pk?.S ?? '';
    const t = pk.startsWith('T#') ? pk.split('#')[1]! : 'silo';
    out[t] = (out[t] ?? 0) + 1;
  }
  return out;
}
