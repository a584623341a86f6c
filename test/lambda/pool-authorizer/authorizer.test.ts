import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { makeDynamoApiKeyRegistry } from '../../../lambda/pool-authorizer/adapters/dynamo-registry';
import { InMemoryApiKeyRegistry } from '../../../lambda/pool-authorizer/adapters/memory-registry';
import { apiKeyOf, makeHandler } from '../../../lambda/pool-authorizer/authorizer';
import { hashApiKey, MAX_API_KEY_CHARS, readApiKey } from '../../../lambda/pool-authorizer/core/api-key';
import { LOOKUP_CACHE_TTL_MS, LookupCache } from '../../../lambda/pool-authorizer/core/lookup-cache';
import { stageMethodsArn } from '../../../lambda/pool-authorizer/core/policy';
import { ledgerDocumentClient } from '../../../lambda/shared/dynamo';
import { apiKeyKey, tenantKey } from '../../../lambda/shared/registry-schema';
import { DynaliteServer } from '../../support/dynalite-server';

const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/live/POST/v1/inference';
const ACME_KEY = `sb_${'a'.repeat(43)}`;
const GLOBEX_KEY = `sb_${'b'.repeat(43)}`;
const PAUSED_KEY = `sb_${'c'.repeat(43)}`;
const GONE_KEY = `sb_${'d'.repeat(43)}`;
const ODD_KEY = `sb_${'e'.repeat(43)}`;
const ROTATED_KEY = `sb_${'f'.repeat(43)}`;

const event = (headers: Record<string, string> | null, multi?: Record<string, string[]>) =>
  ({
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    headers,
    multiValueHeaders: multi ?? null,
  }) as unknown as APIGatewayRequestAuthorizerEvent;

function setup() {
  let now = 1_000_000;
  const clock = { now: () => now };
  const registry = new InMemoryApiKeyRegistry();
  registry.put(ACME_KEY, { tenantId: 'acme', status: 'active' });
  registry.put(GLOBEX_KEY, { tenantId: 'globex', status: 'active' });
  registry.put(PAUSED_KEY, { tenantId: 'paused', status: 'suspended' });
  registry.put(GONE_KEY, { tenantId: 'gone', status: 'deleted' });
  const handler = makeHandler({ registry, cache: new LookupCache(clock) });
  return { handler, registry, advance: (ms: number) => (now += ms) };
}

describe('pool authorizer', () => {
  it('allows an active key on every method of the stage, with its tenant id in the context', async () => {
    const { handler } = setup();
    const out = await handler(event({ 'X-Api-Key': ACME_KEY }));
    expect(out.principalId).toBe('acme');
    expect(out.context).toEqual({ tenantId: 'acme' });
    expect(out.policyDocument.Statement).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/live/*',
      },
    ]);
    expect((await handler(event({ 'x-api-key': GLOBEX_KEY }))).context).toEqual({ tenantId: 'globex' });
  });

  it.each([
    ['suspended', PAUSED_KEY],
    ['deleted', GONE_KEY],
    ['unknown', `sb_${'z'.repeat(43)}`],
    ['malformed (space)', 'sb_ abc'],
    ['malformed (unicode)', 'sb_ключ🔑'],
    ['malformed (huge)', 'k'.repeat(1_000_000)],
  ])('refuses a %s key with a Deny policy and no tenant context', async (_name, key) => {
    const { handler } = setup();
    const out = await handler(event({ 'x-api-key': key }));
    expect(out.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
    expect(out.context).toBeUndefined();
    expect(out.principalId).toBe('refused');
  });

  it('answers Unauthorized (401) without a key or with an empty one', async () => {
    const { handler } = setup();
    await expect(handler(event(null))).rejects.toThrow(/^Unauthorized$/);
    await expect(handler(event({ 'x-api-key': '' }))).rejects.toThrow(/^Unauthorized$/);
  });

  it('refuses a key sent twice, even when one copy is valid', async () => {
    const { handler } = setup();
    const twice = event({ 'x-api-key': ACME_KEY }, { 'x-api-key': [ACME_KEY, GLOBEX_KEY] });
    expect((await handler(twice)).policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
    expect(apiKeyOf({ headers: { 'x-api-key': 'a', 'X-API-KEY': 'b' }, multiValueHeaders: null })).toBeNull();
  });

  it('looks a key up once per container TTL, unknown keys included, and sees a suspension after it', async () => {
    const { handler, registry, advance } = setup();
    for (let i = 0; i < 5; i++) await handler(event({ 'x-api-key': ACME_KEY }));
    for (let i = 0; i < 5; i++) await handler(event({ 'x-api-key': `sb_${'y'.repeat(43)}` }));
    expect(registry.lookups).toBe(2);
    registry.put(ACME_KEY, { tenantId: 'acme', status: 'suspended' });
    advance(LOOKUP_CACHE_TTL_MS - 1);
    expect((await handler(event({ 'x-api-key': ACME_KEY }))).context).toEqual({ tenantId: 'acme' });
    advance(1);
    expect((await handler(event({ 'x-api-key': ACME_KEY }))).policyDocument.Statement[0]).toMatchObject({
      Effect: 'Deny',
    });
    expect(registry.lookups).toBe(3);
  });

  it('never reads past the length limit, and never looks a malformed key up', async () => {
    const { handler, registry } = setup();
    expect(readApiKey('k'.repeat(MAX_API_KEY_CHARS + 1))).toEqual({ kind: 'malformed' });
    const started = performance.now();
    await handler(event({ 'x-api-key': '\u{1F511}'.repeat(5_000_000) }));
    expect(performance.now() - started).toBeLessThan(200);
    expect(registry.lookups).toBe(0);
  });

  it('a registry failure fails the authorizer (API Gateway answers AUTHORIZER_FAILURE), never allows', async () => {
    const handler = makeHandler({
      registry: { lookupApiKey: () => Promise.reject(new Error('registry down')) },
      cache: new LookupCache({ now: () => 0 }),
    });
    await expect(handler(event({ 'x-api-key': ACME_KEY }))).rejects.toThrow('registry down');
  });

  it('the cache holds at most its bound, dropping the oldest', () => {
    const cache = new LookupCache({ now: () => 0 }, 1000, 3);
    for (const h of ['a', 'b', 'c', 'd']) cache.set(h, undefined);
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('d')).toEqual({ record: undefined });
  });

  it('refuses what is not a method ARN', () => {
    expect(() => stageMethodsArn('arn:aws:lambda:eu-west-1:1:function:x')).toThrow(/Not a method ARN/);
  });
});

describe('DynamoDB API key registry', () => {
  const dynalite = new DynaliteServer();
  let client: DynamoDBClient;
  beforeAll(async () => {
    await dynalite.start();
    client = new DynamoDBClient({
      endpoint: dynalite.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    await client.send(
      new CreateTableCommand({
        TableName: 'registry',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
      }),
    );
  });
  afterAll(async () => {
    client.destroy();
    await dynalite.stop();
  });

  it('accepts a key only when its item is active and its tenant names it, and reports the tenant status', async () => {
    const doc = ledgerDocumentClient(client);
    const put = (Item: Record<string, unknown>) => doc.send(new PutCommand({ TableName: 'registry', Item }));
    /** A key item and its tenant, as the control plane writes them (lambda/shared/registry-schema.ts). */
    const register = async (key: string, tenantId: string, keyStatus: string, tenant?: Record<string, unknown>) => {
      await put({ ...apiKeyKey(hashApiKey(key)), keyHash: hashApiKey(key), tenantId, status: keyStatus });
      if (tenant) await put({ ...tenantKey(tenantId), tenantId, cell: 'pool-1', keyHash: hashApiKey(key), ...tenant });
    };
    await register(ACME_KEY, 'acme', 'active', { status: 'active' });
    await register(PAUSED_KEY, 'paused', 'active', { status: 'suspended' });
    await register(GONE_KEY, 'gone', 'revoked', { status: 'deleted' });
    await register(ODD_KEY, 'odd', 'active', { status: 'on-hold' });
    // A key whose tenant has moved on to another key (rotation) is not accepted.
    await register(ROTATED_KEY, 'rotated', 'active', { status: 'active', keyHash: hashApiKey('the-new-key') });
    const registry = makeDynamoApiKeyRegistry(doc, 'registry');
    expect(await registry.lookupApiKey(hashApiKey(ACME_KEY))).toEqual({ tenantId: 'acme', status: 'active' });
    expect(await registry.lookupApiKey(hashApiKey(PAUSED_KEY))).toEqual({ tenantId: 'paused', status: 'suspended' });
    expect(await registry.lookupApiKey(hashApiKey(ODD_KEY))).toEqual({ tenantId: 'odd', status: 'suspended' });
    expect(await registry.lookupApiKey(hashApiKey(GONE_KEY))).toBeUndefined();
    expect(await registry.lookupApiKey(hashApiKey(ROTATED_KEY))).toBeUndefined();
    expect(await registry.lookupApiKey(hashApiKey(GLOBEX_KEY))).toBeUndefined();
  });
});
