/**
 * Moving a tenant between the two models, end to end on the local parts: the registry, a silo ledger and a pool
 * cell's ledger (holding other tenants' items) on dynalite; the move API through the real handler; the pool-to-silo
 * conversion through the silo registration custom resource handler, answering a loopback ResponseURL; the cell's
 * authorizer cache on the API Gateway stand-in; the ledger copied by scripts/move-ledger.ts run as a function.
 * The pooled layout is read back with lambda/shared/pool-keys.ts over ledger-schema.ts's keys (a local helper: the
 * ledger adapters' scoped key builders are not on this branch).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { makeAuthorizerCacheFlusher } from '../../../lambda/control-plane/adapters/apigateway-authorizer-cache';
import type { PoolCell } from '../../../lambda/control-plane/core/ports';
import { makeSiloRegistrationHandler } from '../../../lambda/control-plane/http/silo-registration';
import { requestKey, usageKey } from '../../../lambda/shared/ledger-schema';
import { poolPartitionKey } from '../../../lambda/shared/pool-keys';
import { SILO_REGISTRATION } from '../../../lambda/shared/pool-runtime';
import { apiKeyKey, hashApiKey, SILO_NO_KEY_HASH, tenantKey } from '../../../lambda/shared/registry-schema';
import { makeTelemetry } from '../../../lambda/shared/telemetry';
import { type MoveLedgerReport, run as moveLedger } from '../../../scripts/move-ledger';
import { ApiGatewayStandIn } from '../../support/apigateway-standin';
import { CfnResponseReceiver } from '../../support/cfn-response-receiver';
import {
  countsByTenant,
  createLedgerTable,
  pooled as pooledItems,
  putItems,
  scanAll,
  siloLedgerItems,
  sorted,
} from '../../support/ledger-table';
import { CALLER, pooled, type RegistryHarness, registryServer } from './registry-harness';

const CP = { accessKeyId: 'AKIDCONTROLPLANE', secretAccessKey: 'control-plane-secret' };
const STACK = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Switchboard-ControlPlane/1a2b3c4d';
const apigw = new ApiGatewayStandIn({ [CP.accessKeyId]: CP.secretAccessKey }, ['a1b2c3d4/live']);
const receiver = new CfnResponseReceiver();
const server = registryServer();
beforeAll(async () => {
  await Promise.all([server.start(), apigw.start(), receiver.start()]);
});
afterAll(async () => {
  await Promise.all([server.stop(), apigw.stop(), receiver.stop()]);
});

let n = 0;
/** A registry whose one cell (capacity 4) has a ledger holding two other pooled tenants' items, and a silo ledger. */
async function world(capacity = 4) {
  const cellTable = `cell-ledger-${++n}`;
  const siloTable = `silo-ledger-${n}`;
  await createLedgerTable(server.client, cellTable);
  await createLedgerTable(server.client, siloTable);
  const cell: PoolCell = { id: 'pool-1', capacity, restApiId: 'a1b2c3d4', stage: 'live', ledgerTable: cellTable };
  const h = await server.harness([cell], {
    authorizerCache: makeAuthorizerCacheFlusher({
      region: 'eu-west-1',
      credentials: async () => CP,
      endpoint: apigw.endpoint,
    }),
  });
  for (const id of ['globex', 'acme-eu']) {
    expect((await h.call({ method: 'POST', path: '/v1/tenants', body: pooled(id) })).status).toBe(201);
  }
  const others = [
    ...pooledItems('globex', siloLedgerItems('globex', 9)),
    ...pooledItems('acme-eu', siloLedgerItems('acme-eu', 4)),
  ];
  await putItems(server.client, cellTable, others);
  apigw.calls.length = 0;
  return { h, cellTable, siloTable, others };
}

const siloDoc = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  plan: 'standard',
  isolation: 'silo',
  monthlyBudgetUsd: 750,
  escalation: { reviewerEmails: [`review@${id}.example.com`] },
  ...extra,
});

let seq = 0;
/** A SILO_REGISTRATION event through the control plane's handler; returns the answer PUT to its ResponseURL. */
async function registration(
  h: RegistryHarness,
  requestType: 'Create' | 'Update' | 'Delete',
  tenantId: string,
  document: unknown,
) {
  const i = ++seq;
  const handler = makeSiloRegistrationHandler(
    h.deps(),
    makeTelemetry({ tenantId: 'cp', service: 'cp', sink: () => {} }),
    {
      allowLoopbackResponseUrl: true,
    },
  );
  await handler({
    RequestType: requestType,
    RequestId: `req-${i}`,
    ResponseURL: `${receiver.endpoint}/cfn-response/${i}?X-Amz-Signature=abc`,
    ResourceType: SILO_REGISTRATION.resourceType,
    LogicalResourceId: `Silo${tenantId.replace(/-/g, '')}`,
    StackId: STACK,
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: `switchboard-silo-tenant/${tenantId}` }),
    ResourceProperties: {
      [SILO_REGISTRATION.props.tenantId]: tenantId,
      [SILO_REGISTRATION.props.document]: JSON.stringify(document),
    },
  });
  const answer = receiver.answers.find((a) => a.path.startsWith(`/cfn-response/${i}?`));
  expect(answer).toBeDefined();
  return answer!.body;
}

/** scripts/move-ledger.ts as a function, with the operator's environment pointing at dynalite. */
async function copyLedger(
  h: RegistryHarness,
  tenant: string,
  direction: string,
  from: string,
  to: string,
  ...more: string[]
) {
  const env = {
    AWS_ACCESS_KEY_ID: 'AKIDOPERATOR',
    AWS_SECRET_ACCESS_KEY: 'operator-secret',
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_DYNAMODB: server.endpoint,
  };
  const argv = ['--tenant', tenant, '--direction', direction, '--from-table', from, '--to-table', to];
  const r = await moveLedger([...argv, '--registry-table', h.table, ...more], { env, pageSize: 6 });
  return r as MoveLedgerReport;
}

/** A ledger item by its silo key, in a silo table (`tenant` undefined) or under the tenant's pooled prefix. */
async function ledgerItem(h: RegistryHarness, table: string, key: Record<string, string>, tenant?: string) {
  const Key = { ...key, pk: tenant ? poolPartitionKey(tenant, key.pk!) : key.pk };
  return (await h.doc.send(new GetCommand({ TableName: table, Key, ConsistentRead: true }))).Item;
}

/** The item without its key and index partition (what a move must keep as it was). */
const body = (item: Record<string, unknown> | undefined) => {
  const { pk: _pk, gsi1pk: _g, ...rest } = item ?? {};
  return rest;
};

const raw = async (h: RegistryHarness, key: Record<string, string>) =>
  (await h.doc.send(new GetCommand({ TableName: h.table, Key: key, ConsistentRead: true }))).Item;
const cellCount = async (h: RegistryHarness) => (await raw(h, { pk: 'CELL#pool-1', sk: 'CELL' }))?.tenants;
const actions = async (h: RegistryHarness, id: string) => (await h.registry.listAudit(id)).map((a) => a.action);

describe('moving a tenant between the models', () => {
  it('silo to pool: the move API, the copy, resume; history and counters readable in the cell, the silo Delete leaves it alone', async () => {
    const { h, cellTable, siloTable, others } = await world();
    expect(await registration(h, 'Create', 'acme', siloDoc('acme'))).toMatchObject({ Status: 'SUCCESS' });
    const items = siloLedgerItems('acme', 30);
    await putItems(server.client, siloTable, items);
    expect(await cellCount(h)).toBe(2);

    const moved = await h.call({ method: 'POST', path: '/v1/tenants/acme/move', body: { to: 'pool' } });
    expect(moved.status).toBe(200);
    expect(moved.body.tenant).toMatchObject({
      tenantId: 'acme',
      isolation: 'pool',
      cell: 'pool-1',
      status: 'suspended',
      version: 2,
      plan: 'standard',
      document: { isolation: 'pool', monthlyBudgetUsd: 750 },
      runtime: { monthlyBudgetUsd: 750 },
    });
    expect(moved.body.tenant.keyHash).toBeUndefined();
    const key = moved.body.apiKey as string;
    expect(key).toMatch(/^sbk_[\w-]{43}$/);
    expect(h.issuedKeys).toEqual([...h.issuedKeys.slice(0, 2), key]);
    expect(moved.body.next.join('\n')).toMatch(/npm run tenant:move-ledger -- --tenant acme --direction silo-to-pool/);
    // The key is the tenant's, in its cell, and refused while it is suspended; the cell counts it.
    expect(await h.lookup(key)).toEqual({ tenantId: 'acme', status: 'suspended', cell: 'pool-1' });
    expect(await h.usable(key)).toBe(false);
    expect(await cellCount(h)).toBe(3);

    const copy = await copyLedger(h, 'acme', 'silo-to-pool', siloTable, cellTable);
    expect([copy.ok, copy.sourceItems, copy.copied, copy.verified]).toEqual([
      true,
      items.length,
      items.length,
      items.length,
    ]);
    expect((await copyLedger(h, 'acme', 'silo-to-pool', siloTable, cellTable)).copied).toBe(0);
    // History and the month's counter under the pooled layout, with the same values.
    for (const k of [requestKey('req_acme_1'), requestKey('req_acme_30'), usageKey('2026-12')]) {
      const before = await ledgerItem(h, siloTable, k);
      const after = await ledgerItem(h, cellTable, k, 'acme');
      expect(after?.pk).toBe(poolPartitionKey('acme', k.pk!));
      expect(body(after)).toEqual(body(before));
    }
    expect((await ledgerItem(h, cellTable, usageKey('2026-12'), 'acme'))?.committed).toBe(30_000_000);
    const cell = await scanAll(server.client, cellTable);
    expect(countsByTenant(cell)).toEqual({ acme: items.length, globex: 9 + 3, 'acme-eu': 4 + 3 });
    expect(sorted(cell.filter((i) => !i.pk!.S!.startsWith('T#acme#')))).toEqual(sorted(others));
    // Still suspended: the verified copy's source is deleted; the cell is as it was.
    const emptied = await copyLedger(h, 'acme', 'silo-to-pool', siloTable, cellTable, '--delete-source');
    expect([emptied.ok, emptied.copied, emptied.deleted]).toEqual([true, 0, items.length]);
    expect(await scanAll(server.client, siloTable)).toEqual([]);
    expect(sorted(await scanAll(server.client, cellTable))).toEqual(sorted(cell));

    const resumed = await h.call({ method: 'PATCH', path: '/v1/tenants/acme', body: { resume: true } });
    expect([resumed.status, resumed.body.authorizerCache]).toEqual([200, 'flushed']);
    expect(await h.usable(key)).toBe(true);

    // The silo file removed, the control plane deployed: its registration's Delete changes nothing.
    const before = await h.scan();
    const deleted = await registration(h, 'Delete', 'acme', siloDoc('acme'));
    expect(deleted).toMatchObject({
      Status: 'SUCCESS',
      Reason: expect.stringMatching(/is not a registered silo tenant/),
    });
    expect(await h.scan()).toEqual(before);
    expect(await h.usable(key)).toBe(true);
    expect(await h.registry.getEvidence('acme')).toBeUndefined();

    const audit = await h.registry.listAudit('acme');
    expect(audit.map((a) => a.action)).toEqual(['register', 'move', 'resume']);
    expect(audit[1]).toMatchObject({
      who: CALLER,
      before: { isolation: 'silo', cell: 'silo', status: 'active', version: 1 },
      after: { isolation: 'pool', cell: 'pool-1', status: 'suspended', version: 2 },
    });
  });

  it('pool to silo: the copy, then the registration Create converts it: old key refused and revoked, place released, cache flushed', async () => {
    const { h, cellTable, siloTable, others } = await world();
    expect((await h.call({ method: 'POST', path: '/v1/tenants', body: pooled('hooli') })).status).toBe(201);
    const key = h.issuedKeys.at(-1)!;
    const items = siloLedgerItems('hooli', 20);
    await putItems(server.client, cellTable, pooledItems('hooli', items));
    expect(await cellCount(h)).toBe(3);
    // The copy refuses an active tenant.
    await expect(copyLedger(h, 'hooli', 'pool-to-silo', cellTable, siloTable)).rejects.toThrow(
      /hooli is active .* suspend it first/,
    );
    expect((await h.call({ method: 'PATCH', path: '/v1/tenants/hooli', body: { suspend: true } })).status).toBe(200);

    const copy = await copyLedger(h, 'hooli', 'pool-to-silo', cellTable, siloTable);
    expect([copy.ok, copy.copied, copy.verified]).toEqual([true, items.length, items.length]);
    expect((await copyLedger(h, 'hooli', 'pool-to-silo', cellTable, siloTable)).alreadyThere).toBe(items.length);
    expect(sorted(await scanAll(server.client, siloTable))).toEqual(sorted(items));

    apigw.calls.length = 0;
    const before = await h.registry.getTenant('hooli');
    const answer = await registration(h, 'Create', 'hooli', siloDoc('hooli'));
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'switchboard-silo-tenant/hooli' });
    expect(answer.Reason).toBe(
      'pooled tenant "hooli" moved to its silo (version 3, status suspended): pooled key revoked, pool-1 place released, authorizer cache flushed; PATCH /v1/tenants/hooli {"resume": true} when its data is checked',
    );
    const item = await raw(h, tenantKey('hooli'));
    expect(item).toMatchObject({
      isolation: 'silo',
      cell: 'silo',
      keyHash: SILO_NO_KEY_HASH,
      status: 'suspended',
      plan: 'standard',
      version: before!.version + 1,
      createdAt: before!.createdAt,
      document: { isolation: 'silo', plan: 'standard' },
    });
    expect(await h.lookup(key)).toBeUndefined();
    expect((await raw(h, apiKeyKey(hashApiKey(key))))?.status).toBe('revoked');
    expect(await cellCount(h)).toBe(2);
    expect(apigw.flushed).toEqual(['a1b2c3d4/live']);
    const audit = await h.registry.listAudit('hooli');
    expect(audit.map((a) => a.action)).toEqual(['create', 'suspend', 'move']);
    expect(audit[2]).toMatchObject({
      who: `cloudformation:${STACK}`,
      authorizerCache: 'flushed',
      before: { isolation: 'pool', cell: 'pool-1', status: 'suspended' },
      after: { isolation: 'silo', cell: 'silo', status: 'suspended' },
    });
    // History and counters in the silo ledger, with the values they had in the cell.
    for (const k of [requestKey('req_hooli_3'), usageKey('2026-12'), { pk: 'REV#rev_hooli_1', sk: 'REVIEW' }]) {
      const pooledItem = await ledgerItem(h, cellTable, k, 'hooli');
      const siloItem = await ledgerItem(h, siloTable, k);
      expect(siloItem?.pk).toBe(k.pk);
      expect(body(siloItem)).toEqual(body(pooledItem));
    }
    expect((await ledgerItem(h, siloTable, { pk: 'REV#rev_hooli_1', sk: 'REVIEW' }))?.gsi1pk).toBe('REVIEWS#decided');

    // The source in the cell is deleted after a verified copy; the other tenants' items stay as they were.
    const emptied = await copyLedger(h, 'hooli', 'pool-to-silo', cellTable, siloTable, '--delete-source');
    expect([emptied.ok, emptied.deleted]).toEqual([true, items.length]);
    expect(sorted(await scanAll(server.client, cellTable))).toEqual(sorted(others));
    // A silo tenant now: resumed here, updated by its next deploy, and a second Create converts nothing.
    expect(
      (await h.call({ method: 'PATCH', path: '/v1/tenants/hooli', body: { resume: true } })).body.tenant.status,
    ).toBe('active');
    expect(await registration(h, 'Update', 'hooli', siloDoc('hooli', { monthlyBudgetUsd: 800 }))).toMatchObject({
      Status: 'SUCCESS',
    });
    expect(await actions(h, 'hooli')).toEqual(['create', 'suspend', 'move', 'resume', 'update']);
    expect(await h.registry.getTenant('hooli')).toMatchObject({
      isolation: 'silo',
      runtime: { monthlyBudgetUsd: 800 },
    });
    expect(await cellCount(h)).toBe(2);
  });

  it('moves with "activate": true: the key works at once', async () => {
    const { h } = await world();
    await registration(h, 'Create', 'initech', siloDoc('initech'));
    await h.call({ method: 'PATCH', path: '/v1/tenants/initech', body: { suspend: true } });
    const moved = await h.call({
      method: 'POST',
      path: '/v1/tenants/initech/move',
      body: { to: 'pool', activate: true },
    });
    expect([moved.status, moved.body.tenant.status]).toEqual([200, 'active']);
    expect(await h.usable(moved.body.apiKey)).toBe(true);
    expect(moved.body.next.join('\n')).not.toMatch(/resume/);
  });

  it('refuses with a stable code and an actionable message, writing nothing', async () => {
    const { h } = await world(3);
    await registration(h, 'Create', 'acme', siloDoc('acme'));
    await registration(h, 'Create', 'fast-co', siloDoc('fast-co', { throttle: { rateLimit: 2000, burstLimit: 4000 } }));
    await registration(h, 'Create', 'tagged-co', siloDoc('tagged-co', { tags: { 'cost-center': '4711' } }));
    await registration(h, 'Create', 'gone-co', siloDoc('gone-co'));
    await registration(h, 'Delete', 'gone-co', siloDoc('gone-co'));
    const move = (id: string, b: unknown, extra: Record<string, unknown> = {}) =>
      h.call({ method: 'POST', path: `/v1/tenants/${id}/move`, body: b, ...extra });
    const cases: Array<
      [Promise<{ status: number; body: { error: { code: string; message: string } } }>, number, string, RegExp]
    > = [
      [
        move('globex', { to: 'pool' }),
        409,
        'already_pooled',
        /^Tenant "globex" is pooled already \(cell pool-1\); nothing was changed\./,
      ],
      [move('gone-co', { to: 'pool' }), 409, 'tenant_deleted', /was offboarded; a deleted tenant cannot be moved/],
      [move('nobody', { to: 'pool' }), 404, 'not_found', /No tenant "nobody"/],
      [move('acme', { to: 'moon' }), 400, 'invalid_request', /^to: got "moon"; must be "pool"/],
      [
        move('acme', { to: 'silo' }),
        422,
        'silo_tenant',
        /^"to": "silo" is not an API call: .*set isolation: silo in tenants\/acme\.yaml/,
      ],
      [move('acme', {}), 400, 'invalid_request', /^Invalid move: to: /],
      [move('acme', { to: 'pool', activate: 'yes' }), 400, 'invalid_request', /activate: /],
      [move('acme', { to: 'pool', cell: 'pool-9' }), 400, 'invalid_request', /cell: unknown field/],
      [move('Not_An_Id', { to: 'pool' }), 400, 'invalid_request', /^id: got "Not_An_Id"; a tenant id is/],
      [
        move('acme', undefined, { rawBody: `{"to":"pool","pad":"${'x'.repeat(2000)}"}` }),
        413,
        'payload_too_large',
        /limit is 1024 bytes/,
      ],
      [move('acme', undefined, { rawBody: '{"to":' }), 400, 'invalid_json', /not valid JSON/],
      [move('acme', { to: 'pool' }, { caller: null }), 403, 'forbidden', /IAM authorization/],
      [
        move('fast-co', { to: 'pool' }),
        422,
        'invalid_tenant',
        /throttle\.rateLimit: .*above the 1,000 a pooled tenant may have/,
      ],
      [
        move('tagged-co', { to: 'pool' }),
        422,
        'invalid_tenant',
        /tags: a pooled tenant has no resources to tag of its own .*remove it, or give the tenant a stack of its own/,
      ],
      [h.call({ method: 'GET', path: '/v1/tenants/acme/move' }), 405, 'method_not_allowed', /GET is not allowed/],
    ];
    const before = await h.scan();
    for (const [call, status, code, message] of cases) {
      const res = await call;
      expect([res.status, res.body.error.code]).toEqual([status, code]);
      expect(res.body.error.message).toMatch(message);
      expect(await h.scan()).toEqual(before);
    }
    // A full pool: 503 pool_full, and the silo tenant is left as it was.
    expect((await h.call({ method: 'POST', path: '/v1/tenants', body: pooled('filler') })).status).toBe(201);
    const full = await h.scan();
    const res = await move('acme', { to: 'pool' });
    expect([res.status, res.body.error.code]).toEqual([503, 'pool_full']);
    expect(res.body.error.message).toMatch(/add a cell to the configuration and deploy it, then retry/);
    expect(await h.scan()).toEqual(full);
    expect(await actions(h, 'acme')).toEqual(['register']);
  });
});
