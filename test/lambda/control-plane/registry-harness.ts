/**
 * The control plane on the local parts: dynalite, a registry table created from REGISTRY_TABLE (the definition
 * the CDK table will use), the real DynamoDB adapter and the API handler, called with API Gateway proxy events.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { makeApiKeyLookup, makeDynamoRegistry } from '../../../lambda/control-plane/adapters/dynamo-registry';
import type { ControlPlaneDeps, PoolCell, RegistryPort } from '../../../lambda/control-plane/core/ports';
import { DEFAULT_PURGE_BUDGET } from '../../../lambda/control-plane/core/purge';
import { makeControlPlaneHandler } from '../../../lambda/control-plane/http/handler';
import { ledgerDocumentClient } from '../../../lambda/shared/dynamo';
import {
  hashApiKey,
  newApiKey,
  REGISTRY_BY_CELL_ATTRIBUTES,
  REGISTRY_TABLE,
} from '../../../lambda/shared/registry-schema';
import { makeTelemetry } from '../../../lambda/shared/telemetry';
import { DynaliteServer } from '../../support/dynalite-server';

export const CALLER = 'arn:aws:iam::111122223333:role/PlatformTeam';

/** Creates a registry table named `name` from REGISTRY_TABLE. */
export async function createRegistryTable(client: DynamoDBClient, name: string): Promise<void> {
  const t = REGISTRY_TABLE;
  const i = t.byKindIndex;
  const c = t.byCellIndex;
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: t.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: t.sortKey.name, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: t.partitionKey.name, AttributeType: t.partitionKey.type },
        { AttributeName: t.sortKey.name, AttributeType: t.sortKey.type },
        { AttributeName: i.partitionKey.name, AttributeType: i.partitionKey.type },
        { AttributeName: c.partitionKey.name, AttributeType: c.partitionKey.type },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: i.name,
          KeySchema: [
            { AttributeName: i.partitionKey.name, KeyType: 'HASH' },
            { AttributeName: i.sortKey.name, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: c.name,
          KeySchema: [
            { AttributeName: c.partitionKey.name, KeyType: 'HASH' },
            { AttributeName: c.sortKey.name, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...REGISTRY_BY_CELL_ATTRIBUTES] },
        },
      ],
    }),
  );
}

export interface Call {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly query?: Record<string, string>;
  readonly caller?: string | null;
  readonly rawBody?: string;
}

/** A proxy event for `method path` (the resource is derived from the path: `/v1/tenants/{id}[/move]`). */
export function eventOf(c: Call): APIGatewayProxyEvent {
  const [, id, sub = ''] = c.path.match(/^\/v1\/tenants\/([^/]+)(\/move)?$/) ?? [];
  return {
    resource: id !== undefined ? `/v1/tenants/{id}${sub}` : c.path,
    path: c.path,
    httpMethod: c.method,
    headers: { 'Content-Type': 'application/json' },
    pathParameters: id !== undefined ? { id: decodeURIComponent(id) } : null,
    queryStringParameters: c.query ?? null,
    body: c.rawBody ?? (c.body === undefined ? null : JSON.stringify(c.body)),
    isBase64Encoded: false,
    requestContext: {
      requestId: randomUUID(),
      identity: { userArn: c.caller === undefined ? CALLER : c.caller },
    },
  } as unknown as APIGatewayProxyEvent;
}

export interface Response {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies in assertions
  readonly body: any;
}

/** One registry table on a shared dynalite server, with its handler. */
export class RegistryHarness {
  readonly doc;
  readonly registry: RegistryPort;
  readonly issuedKeys: string[] = [];
  constructor(
    readonly client: DynamoDBClient,
    readonly table: string,
    readonly cells: readonly PoolCell[],
    /** Adapters a test brings (API Gateway, the cell's ledger); without them a call to one fails loudly. */
    readonly adapters: Partial<
      Pick<ControlPlaneDeps, 'authorizerCache' | 'ledger' | 'purgeBudget' | 'reviewerSubscriptions' | 'reviewerGroups'>
    > = {},
  ) {
    this.doc = ledgerDocumentClient(client);
    this.registry = makeDynamoRegistry(this.doc, table);
  }

  deps(registry: RegistryPort = this.registry, now = () => Date.now()): ControlPlaneDeps {
    return {
      registry,
      cells: this.cells,
      now,
      newApiKey: () => {
        const k = newApiKey();
        this.issuedKeys.push(k);
        return k;
      },
      authorizerCache: this.adapters.authorizerCache ?? {
        flush: async () => {
          throw new Error('no API Gateway in this test');
        },
      },
      ledger: this.adapters.ledger ?? {
        scanTenantKeys: async () => {
          throw new Error('no pooled ledger in this test');
        },
        deleteTenantItems: async () => {
          throw new Error('no pooled ledger in this test');
        },
      },
      purgeBudget: this.adapters.purgeBudget ?? DEFAULT_PURGE_BUDGET,
      ...(this.adapters.reviewerGroups ? { reviewerGroups: this.adapters.reviewerGroups } : {}),
      reviewerSubscriptions: this.adapters.reviewerSubscriptions ?? {
        subscribe: async () => {
          throw new Error('no SNS in this test');
        },
        unsubscribe: async () => {
          throw new Error('no SNS in this test');
        },
      },
    };
  }

  async call(c: Call, registry?: RegistryPort): Promise<Response> {
    const handler = makeControlPlaneHandler(
      this.deps(registry),
      makeTelemetry({ tenantId: 'cp', service: 'cp', sink: () => {} }),
    );
    const res: APIGatewayProxyResult = await handler(eventOf(c));
    return { status: res.statusCode, body: JSON.parse(res.body) };
  }

  /** Every item of the table. */
  async scan(): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new ScanCommand({ TableName: this.table, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      items.push(...(r.Items ?? []));
      start = r.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** The tenant an API key reaches through the authorizer's lookup, if any. */
  lookup(apiKey: string) {
    return makeApiKeyLookup(this.doc, this.table)(hashApiKey(apiKey));
  }

  /** Whether the authorizer would let this key through (known, accepted, tenant active). */
  async usable(apiKey: string): Promise<boolean> {
    return (await this.lookup(apiKey))?.status === 'active';
  }
}

/** A dynalite server for a test file; `harness()` gives a fresh table each time. */
export function registryServer(cells: readonly PoolCell[] = [{ id: 'pool-1', capacity: 1000 }]) {
  const server = new DynaliteServer();
  let client: DynamoDBClient;
  let n = 0;
  return {
    async start() {
      await server.start();
      client = new DynamoDBClient({
        endpoint: server.endpoint,
        region: 'us-east-1',
        maxAttempts: 1,
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      });
    },
    async stop() {
      client?.destroy();
      await server.stop();
    },
    async harness(
      c: readonly PoolCell[] = cells,
      adapters: RegistryHarness['adapters'] = {},
    ): Promise<RegistryHarness> {
      const table = `registry-${++n}`;
      await createRegistryTable(client, table);
      return new RegistryHarness(client, table, c, adapters);
    },
    /** The low-level client (for tables of a test's own). */
    get client(): DynamoDBClient {
      return client;
    },
    get endpoint(): string {
      return server.endpoint;
    },
  };
}

/** A pooled tenant document. */
export const pooled = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  plan: 'basic',
  escalation: { reviewerEmails: [`review@${id}.example.com`] },
  ...extra,
});
