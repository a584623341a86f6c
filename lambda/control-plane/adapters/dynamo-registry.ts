/**
 * The tenant registry on DynamoDB (keys: lambda/shared/registry-schema.ts). Every write is one conditional write
 * of one item; the use cases order them (core/onboard.ts). {@link lookupApiKey} is the read the pool authorizer
 * makes for every new key it sees.
 */
import { randomBytes } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { whenConditionHolds } from '../../shared/dynamo';
import { DomainError } from '../../shared/errors';
import { lookupApiKey } from '../../shared/registry-lookup';
import {
  type AuditItem,
  apiKeyKey,
  auditPk,
  cellKey,
  evidencePk,
  type KeyStatus,
  purgeKey,
  REGISTRY_TABLE,
  TENANT_KIND,
  type TenantItem,
  tenantKey,
} from '../../shared/registry-schema';
import type { OffboardEvidence, PurgeProgress, RegistryPort, TenantPage } from '../core/ports';

export { type ApiKeyLookup, lookupApiKey, makeApiKeyLookup } from '../../shared/registry-lookup';

/** A cursor of the tenant listing: the last key of a page, base64url JSON. */
function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key), 'utf8').toString('base64url') : undefined;
}

function decodeCursor(cursor: string): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const ok = key && typeof key === 'object' && ['pk', 'sk', 'kind'].every((k) => typeof key[k] === 'string');
    if (ok && Object.keys(key).length === 3) return key;
  } catch {
    // fall through
  }
  throw new DomainError('invalid_request', 'cursor: not a cursor this API returned; send nextCursor as given');
}

/** The registry port on a DynamoDB table. */
export function makeDynamoRegistry(doc: DynamoDBDocumentClient, table: string): RegistryPort {
  const put = (Item: Record<string, unknown>, ConditionExpression?: string, values?: Record<string, unknown>) =>
    whenConditionHolds(() =>
      doc.send(
        new PutCommand({
          TableName: table,
          Item,
          ...(ConditionExpression ? { ConditionExpression } : {}),
          ...(values ? { ExpressionAttributeValues: values } : {}),
        }),
      ),
    );
  return {
    async getTenant(id) {
      const r = await doc.send(new GetCommand({ TableName: table, Key: tenantKey(id), ConsistentRead: true }));
      return r.Item ? stripKeys<TenantItem>(r.Item) : undefined;
    },
    putNewTenant: (item) => put({ ...tenantKey(item.tenantId), ...item }, 'attribute_not_exists(pk)'),
    replaceTenant: (item, expected) =>
      put({ ...tenantKey(item.tenantId), ...item }, 'version = :v', { ':v': expected }),
    async listTenants(limit, cursor): Promise<TenantPage> {
      const r = await doc.send(
        new QueryCommand({
          TableName: table,
          IndexName: REGISTRY_TABLE.byKindIndex.name,
          KeyConditionExpression: 'kind = :k',
          ExpressionAttributeValues: { ':k': TENANT_KIND },
          Limit: limit,
          ...(cursor ? { ExclusiveStartKey: decodeCursor(cursor) } : {}),
        }),
      );
      const next = encodeCursor(r.LastEvaluatedKey);
      return { items: (r.Items ?? []).map((i) => stripKeys<TenantItem>(i)), ...(next ? { cursor: next } : {}) };
    },
    putNewKey: (item) => put({ ...apiKeyKey(item.keyHash), ...item }, 'attribute_not_exists(pk)'),
    setKeyStatus: (keyHash, to, from, at) => setKeyStatus(doc, table, keyHash, to, from, at),
    countActiveKeys: (tenantId) => countActiveKeys(doc, table, tenantId),
    reserveCellPlace: (cellId, capacity, at) =>
      whenConditionHolds(() =>
        doc.send(
          new UpdateCommand({
            TableName: table,
            Key: cellKey(cellId),
            UpdateExpression: 'ADD tenants :one SET updatedAt = :at',
            ConditionExpression: 'attribute_not_exists(tenants) OR tenants < :cap',
            ExpressionAttributeValues: { ':one': 1, ':cap': capacity, ':at': at },
          }),
        ),
      ),
    async releaseCellPlace(cellId, at) {
      await whenConditionHolds(() =>
        doc.send(
          new UpdateCommand({
            TableName: table,
            Key: cellKey(cellId),
            UpdateExpression: 'ADD tenants :minus SET updatedAt = :at',
            ConditionExpression: 'tenants > :zero',
            ExpressionAttributeValues: { ':minus': -1, ':zero': 0, ':at': at },
          }),
        ),
      );
    },
    async appendAudit(entry: AuditItem) {
      // Time-ordered within the tenant; the random tail keeps two entries of one millisecond apart.
      const sk = `${entry.at}#${randomBytes(6).toString('hex')}`;
      await doc.send(new PutCommand({ TableName: table, Item: { pk: auditPk(entry.tenantId), sk, ...entry } }));
    },
    listAudit: (tenantId) => listAudit(doc, table, tenantId),
    getEvidence: (tenantId) => getEvidence(doc, table, tenantId),
    async getPurge(tenantId) {
      const r = await doc.send(new GetCommand({ TableName: table, Key: purgeKey(tenantId), ConsistentRead: true }));
      return r.Item ? stripKeys<PurgeProgress>(r.Item) : undefined;
    },
    putPurge: (progress) =>
      progress.version === 1
        ? put({ ...purgeKey(progress.tenantId), ...progress }, 'attribute_not_exists(pk)')
        : put({ ...purgeKey(progress.tenantId), ...progress }, 'version = :v', { ':v': progress.version - 1 }),
    async putEvidence(evidence: OffboardEvidence) {
      await doc.send(
        new PutCommand({ TableName: table, Item: { pk: evidencePk(evidence.tenantId), sk: evidence.at, ...evidence } }),
      );
    },
  };
}

async function listAudit(doc: DynamoDBDocumentClient, table: string, tenantId: string): Promise<AuditItem[]> {
  const items: AuditItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': auditPk(tenantId) },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(r.Items ?? []).map((i) => stripKeys<AuditItem>(i)));
    start = r.LastEvaluatedKey;
  } while (start);
  return items;
}

async function getEvidence(
  doc: DynamoDBDocumentClient,
  table: string,
  tenantId: string,
): Promise<OffboardEvidence | undefined> {
  const r = await doc.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: { ':p': evidencePk(tenantId) },
      ConsistentRead: true,
      Limit: 1,
    }),
  );
  return r.Items?.[0] ? stripKeys<OffboardEvidence>(r.Items[0]) : undefined;
}

async function setKeyStatus(
  doc: DynamoDBDocumentClient,
  table: string,
  keyHash: string,
  to: KeyStatus,
  from: readonly KeyStatus[],
  at: string,
): Promise<boolean> {
  const names = from.map((_, i) => `:f${i}`);
  return whenConditionHolds(() =>
    doc.send(
      new UpdateCommand({
        TableName: table,
        Key: apiKeyKey(keyHash),
        UpdateExpression: 'SET #s = :to, updatedAt = :at',
        ConditionExpression: `attribute_exists(pk) AND #s IN (${names.join(', ')})`,
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':to': to, ':at': at, ...Object.fromEntries(from.map((f, i) => [names[i], f])) },
      }),
    ),
  );
}

/** Active keys of a tenant that its tenant item names (at most one by design; counted, not assumed). */
async function countActiveKeys(doc: DynamoDBDocumentClient, table: string, tenantId: string): Promise<number> {
  const t = (await doc.send(new GetCommand({ TableName: table, Key: tenantKey(tenantId), ConsistentRead: true })))
    .Item as TenantItem | undefined;
  if (!t) return 0;
  return (await lookupApiKey(doc, table, t.keyHash)) ? 1 : 0;
}

function stripKeys<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
}
