/**
 * Offboarding with `offboarding.data: delete` on the local parts: dynalite holding a pool cell's ledger with several
 * tenants' items, IAM in front of it (iam-dynamo-proxy.ts: the tenant-access role's statements as synthesized by its
 * construct, and the control plane's keys-only Scan statement from lambda/shared/control-plane-iam.ts), and the STS
 * stand-in issuing the tenant-tagged sessions the deletes are signed with.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { makePooledLedger } from '../../../lambda/control-plane/adapters/pooled-ledger';
import type { PoolCell, PooledLedgerPort, PurgeBudget, RegistryPort } from '../../../lambda/control-plane/core/ports';
import { LEDGER_KEYS_ONLY_SCAN } from '../../../lambda/shared/control-plane-iam';
import { ledgerDocumentClient } from '../../../lambda/shared/dynamo';
import { poolPartitionKey, TENANT_SESSION_TAG } from '../../../lambda/shared/pool-keys';
import { makeStsQueryClient } from '../../../lambda/shared/tenant-credentials-sts';
import type { StatementJson } from '../../lib/template-utils';
import { decide } from '../../support/iam-eval';
import { poolAccessPolicy } from '../../support/pool-cell';
import { StsStandIn } from '../../support/sts-standin';
import { type IamDecision, IamDynamoProxy, type IamPrincipal } from './iam-dynamo-proxy';
import { pooled, RegistryHarness, registryServer } from './registry-harness';

const CP = { accessKeyId: 'AKIDCONTROLPLANE', secretAccessKey: 'control-plane-secret' };
const ROLE = 'arn:aws:iam::123456789012:role/Switchboard-Pool-1-TenantAccess';

/** The tenant-access role's statements and the table ARN they name, from the synthesized construct. */
const role = poolAccessPolicy();
const scanStatement: StatementJson = {
  Effect: 'Allow',
  Action: [...LEDGER_KEYS_ONLY_SCAN.actions],
  Resource: role.tableArn,
  Condition: LEDGER_KEYS_ONLY_SCAN.conditions,
};

const sts = new StsStandIn({ [CP.accessKeyId]: CP.secretAccessKey }, TENANT_SESSION_TAG);
const server = registryServer();
let proxy: IamDynamoProxy;
const tableArns: Record<string, string> = {};

/** The tenant tag of a session token the STS stand-in issued (`tok/<session name>/…`). */
function principalOf(accessKeyId: string, token: string | undefined): IamPrincipal | undefined {
  if (accessKeyId === CP.accessKeyId) return { name: 'control-plane', statements: [scanStatement] };
  const sessionName = /^tok\/([^/]+)\//.exec(token ?? '')?.[1];
  const call = sts.calls.find((c) => c.roleSessionName === sessionName && c.outcome === 'issued');
  const tenant = call?.tags[TENANT_SESSION_TAG];
  return tenant
    ? { name: `tenant-access session ${tenant}`, statements: role.statements, tags: { [TENANT_SESSION_TAG]: tenant } }
    : undefined;
}

beforeAll(async () => {
  await Promise.all([server.start(), sts.start()]);
  proxy = new IamDynamoProxy(server.endpoint, tableArns, principalOf);
  await proxy.start();
});
afterAll(async () => {
  await Promise.all([server.stop(), sts.stop(), proxy.stop()]);
});

let n = 0;
const SEED = { acme: 120, 'acme-eu': 40, globex: 30 } as const;

/** A registry and a ledger with the seeded tenants' items; `budget` bounds a call's purge. */
async function world(budget?: PurgeBudget, cellExtra: Partial<PoolCell> = {}) {
  const ledgerTable = `pool-1-ledger-${++n}`;
  tableArns[ledgerTable] = role.tableArn;
  await server.client.send(
    new CreateTableCommand({
      TableName: ledgerTable,
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
  const cell: PoolCell = { id: 'pool-1', capacity: 100, ledgerTable, tenantAccessRoleArn: ROLE, ...cellExtra };
  const ledger = makePooledLedger({
    scanClient: new DynamoDBClient({ endpoint: proxy.endpoint, region: 'eu-west-1', credentials: CP, maxAttempts: 1 }),
    sts: makeStsQueryClient({ region: 'eu-west-1', endpoint: sts.endpoint, credentials: async () => CP }),
    clientConfig: { endpoint: proxy.endpoint, region: 'eu-west-1', maxAttempts: 1 },
  });
  const h = await server.harness([cell], { ledger, ...(budget ? { purgeBudget: budget } : {}) });
  for (const id of Object.keys(SEED)) {
    const doc = pooled(id, id === 'acme' ? { offboarding: { data: 'delete' } } : {});
    expect((await h.call({ method: 'POST', path: '/v1/tenants', body: doc })).status).toBe(201);
  }
  const doc = ledgerDocumentClient(server.client);
  for (const [id, count] of Object.entries(SEED)) {
    for (let i = 0; i < count; i++) {
      const siloKey = i === 0 ? 'USAGE#2026-12' : `REQ#r-${i}`;
      await doc.send(
        new PutCommand({
          TableName: ledgerTable,
          Item: {
            pk: poolPartitionKey(id, siloKey),
            sk: i === 0 ? 'TOTAL' : 'REQUEST',
            output: `answer ${i} of ${id}`,
          },
        }),
      );
    }
  }
  proxy.decisions.length = 0;
  sts.calls.length = 0;
  return { h, cell, ledger, ledgerTable };
}

/** The ledger's items by tenant (read directly from dynalite, as a test's own check). */
async function itemsByTenant(table: string) {
  const items = (await ledgerDocumentClient(server.client).send(new ScanCommand({ TableName: table }))).Items ?? [];
  const by: Record<string, Array<Record<string, unknown>>> = {};
  for (const item of items) {
    const tenant = String(item.pk).split('#')[1]!;
    by[tenant] = [...(by[tenant] ?? []), item];
  }
  return by;
}
const counts = (by: Record<string, unknown[]>) => Object.fromEntries(Object.entries(by).map(([k, v]) => [k, v.length]));
const sortByKey = (items: Array<Record<string, unknown>> = []) =>
  [...items].sort((a, b) => `${a.pk}${a.sk}`.localeCompare(`${b.pk}${b.sk}`));

const offboard = (h: RegistryHarness, id = 'acme') => h.call({ method: 'DELETE', path: `/v1/tenants/${id}` });

describe('offboarding purge (offboarding.data: delete)', () => {
  it("deletes the tenant's items and only them, through its tagged session, and counts them in the evidence", async () => {
    const { h, ledgerTable } = await world();
    const before = await itemsByTenant(ledgerTable);
    const res = await offboard(h);
    expect(res.status).toBe(200);
    expect(res.body.evidence.counts.ledgerItems).toEqual({ before: SEED.acme, after: 0 });
    expect(res.body.evidence.data).toMatchObject({ policy: 'delete', passes: 2 });
    expect(res.body.evidence.deleted).toContain(`ledger items of the tenant: ${SEED.acme} deleted`);
    const after = await itemsByTenant(ledgerTable);
    expect(counts(after)).toEqual({ 'acme-eu': SEED['acme-eu'], globex: SEED.globex });
    expect(sortByKey(after['acme-eu'])).toEqual(sortByKey(before['acme-eu']));
    expect(sortByKey(after.globex)).toEqual(sortByKey(before.globex));
    // Who did what: keys-only scans by the control plane, deletes only by the session tagged acme.
    expect(sts.calls.map((c) => [c.roleArn, c.tags, c.outcome])).toEqual([
      [ROLE, { [TENANT_SESSION_TAG]: 'acme' }, 'issued'],
    ]);
    const ops = (d: IamDecision) => `${d.operation} by ${d.principal}${d.allowed ? '' : ' DENIED'}`;
    expect([...new Set(proxy.decisions.map(ops))].sort()).toEqual([
      'BatchWriteItem by tenant-access session acme',
      'Scan by control-plane',
    ]);
    for (const d of proxy.decisions.filter((x) => x.operation === 'Scan')) {
      expect(d.context).toMatchObject({
        'dynamodb:Select': 'SPECIFIC_ATTRIBUTES',
        'dynamodb:Attributes': ['pk', 'sk'],
      });
    }
    // The evidence is stored, the retry is refused, the purge's progress says done.
    expect((await h.registry.getEvidence('acme'))?.counts).toEqual(res.body.evidence.counts);
    expect((await offboard(h)).body.error.code).toBe('tenant_deleted');
    expect(await h.registry.getPurge('acme')).toMatchObject({ done: true, deleted: SEED.acme, foundThisPass: 0 });
  });

  it('works a bounded share per call: 202 purge in_progress, the next DELETE goes on, one evidence at the end', async () => {
    const { h, ledgerTable } = await world({ maxItems: 30, maxMs: 60_000, pageSize: 25 });
    const key = h.issuedKeys[0]!;
    const answers: Array<{ status: number; deletedSoFar?: number }> = [];
    for (let i = 0; i < 50; i++) {
      const res = await offboard(h);
      answers.push({ status: res.status, deletedSoFar: res.body.purge?.deletedSoFar });
      if (res.status !== 202) {
        expect(res.status).toBe(200);
        expect(res.body.evidence.counts.ledgerItems).toEqual({ before: SEED.acme, after: 0 });
        break;
      }
      expect(res.body.purge).toMatchObject({ status: 'in_progress', next: expect.stringMatching(/DELETE .* again/) });
      expect(res.body.tenant.status).toBe('deleted');
      expect(await h.usable(key)).toBe(false);
    }
    const inProgress = answers.filter((a) => a.status === 202);
    expect(inProgress.length).toBeGreaterThanOrEqual(3);
    const soFar = inProgress.map((a) => a.deletedSoFar!);
    expect(soFar).toEqual([...soFar].sort((a, b) => a - b));
    expect(Math.max(...soFar)).toBeLessThan(SEED.acme);
    expect(counts(await itemsByTenant(ledgerTable))).toEqual({ 'acme-eu': SEED['acme-eu'], globex: SEED.globex });
    expect((await h.registry.listAudit('acme')).filter((a) => a.action === 'delete')).toHaveLength(1);
    expect((await h.scan()).filter((i) => String(i.pk).startsWith('EVIDENCE#'))).toHaveLength(1);
  });

  it('keeps exact counts when DELETEs race: a call that lost the race answers 409 tenant_changed and changes nothing', async () => {
    const { h, ledgerTable } = await world({ maxItems: 20, maxMs: 60_000, pageSize: 20 });
    expect((await offboard(h)).status).toBe(202);
    const statuses: number[] = [];
    for (let round = 0; round < 40; round++) {
      const answers = await Promise.all([offboard(h), offboard(h), offboard(h)]);
      statuses.push(...answers.map((a) => a.status));
      for (const a of answers.filter((x) => x.status === 409)) {
        expect(['tenant_changed', 'tenant_deleted']).toContain(a.body.error.code);
      }
      const done = answers.find((a) => a.status === 200);
      if (done) {
        expect(done.body.evidence.counts.ledgerItems).toEqual({ before: SEED.acme, after: 0 });
        break;
      }
    }
    expect(statuses).toContain(200);
    expect(statuses).toContain(409);
    expect(counts(await itemsByTenant(ledgerTable))).toEqual({ 'acme-eu': SEED['acme-eu'], globex: SEED.globex });
    const registryItems = await h.scan();
    expect(registryItems.filter((i) => String(i.pk).startsWith('EVIDENCE#'))).toHaveLength(1);
    // The place is released once: three tenants onboarded, one offboarded.
    expect(registryItems.find((i) => i.pk === 'CELL#pool-1')?.tenants).toBe(2);
  });

  it('survives a crash at any point of the purge: the retried DELETE goes on and counts every item once', async () => {
    // Crash after the k-th batch of deletes was applied (the answer lost), or before the k-th progress write.
    const points = { afterDelete: [1, 3], beforeProgress: [1, 2, 5, 9] } as const;
    for (const crash of ['afterDelete', 'beforeProgress'] as const) {
      for (const k of points[crash]) {
        const { h, ledger, ledgerTable } = await world({ maxItems: 10_000, maxMs: 60_000, pageSize: 40 });
        let calls = 0;
        const crashingLedger: PooledLedgerPort = {
          scanTenantKeys: (...a) => ledger.scanTenantKeys(...a),
          async deleteTenantItems(...a) {
            await ledger.deleteTenantItems(...a);
            if (crash === 'afterDelete' && ++calls === k) throw new Error('crash after delete');
          },
        };
        const crashingRegistry = new Proxy(h.registry, {
          get(target, prop: keyof RegistryPort) {
            const f = target[prop] as (...x: unknown[]) => Promise<unknown>;
            if (prop !== 'putPurge' || crash !== 'beforeProgress') return f;
            return (...x: unknown[]) => {
              if (++calls === k) throw new Error('crash before progress');
              return f(...x);
            };
          },
        });
        const broken = new RegistryHarness(h.client, h.table, h.cells, {
          ...h.adapters,
          ledger: crashingLedger,
        });
        const first = await broken.call({ method: 'DELETE', path: '/v1/tenants/acme' }, crashingRegistry);
        expect({ crash, k, status: first.status }).toEqual({ crash, k, status: 500 });
        const retry = await offboard(h);
        expect({ crash, k, status: retry.status, counts: retry.body.evidence?.counts.ledgerItems }).toEqual({
          crash,
          k,
          status: 200,
          counts: { before: SEED.acme, after: 0 },
        });
        expect(counts(await itemsByTenant(ledgerTable))).toEqual({ 'acme-eu': SEED['acme-eu'], globex: SEED.globex });
      }
    }
  });

  it("is refused by IAM when a bug names another tenant's key, or when the scan asks for more than keys", async () => {
    const { cell, ledger, ledgerTable } = await world();
    const other = { pk: poolPartitionKey('acme-eu', 'REQ#r-1'), sk: 'REQUEST' };
    await expect(ledger.deleteTenantItems(cell, 'acme', [other])).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    const mixed = [{ pk: poolPartitionKey('acme', 'REQ#r-1'), sk: 'REQUEST' }, other];
    await expect(ledger.deleteTenantItems(cell, 'acme', mixed)).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    expect(counts(await itemsByTenant(ledgerTable))).toEqual(SEED);
    expect(proxy.decisions.map((d) => [d.operation, d.principal, d.allowed])).toEqual([
      ['BatchWriteItem', 'tenant-access session acme', false],
      ['BatchWriteItem', 'tenant-access session acme', false],
    ]);
    // The control plane's own statement: a keys-only Scan, nothing else.
    const scan = (context: Record<string, string | string[]>, action = 'dynamodb:Scan') =>
      decide([scanStatement], { action, resource: role.tableArn, context });
    expect(scan({ 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES', 'dynamodb:Attributes': ['pk', 'sk'] })).toBe('allow');
    expect(scan({ 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES', 'dynamodb:Attributes': ['pk', 'output'] })).toBe('none');
    expect(scan({ 'dynamodb:Select': 'ALL_ATTRIBUTES' })).toBe('none');
    expect(scan({ 'dynamodb:Select': 'COUNT' })).toBe('none');
    expect(scan({}, 'dynamodb:GetItem')).toBe('none');
    expect(scan({}, 'dynamodb:Query')).toBe('none');
  });

  it('with retain (the default) deletes nothing and says until when the records are kept', async () => {
    const { h, ledgerTable } = await world();
    const res = await offboard(h, 'globex');
    expect(res.status).toBe(200);
    const at = Date.parse(res.body.evidence.at);
    expect(res.body.evidence.data).toEqual({
      policy: 'retain',
      keptUntil: new Date(at + 30 * 86_400_000).toISOString(),
      how: expect.stringMatching(/TTL removes each/),
    });
    expect(res.body.evidence.counts.ledgerItems).toBeUndefined();
    expect(counts(await itemsByTenant(ledgerTable))).toEqual(SEED);
    expect(proxy.decisions).toEqual([]);
  });

  it('refuses 503 purge_unavailable, writing nothing, when the cell lacks its ledger or role in POOL_CELLS', async () => {
    const { h, ledgerTable } = await world(undefined, { tenantAccessRoleArn: undefined });
    const before = await h.scan();
    const res = await offboard(h);
    expect([res.status, res.body.error.code]).toEqual([503, 'purge_unavailable']);
    expect(res.body.error.message).toMatch(/cell pool-1 has no ledgerTable or tenantAccessRoleArn in POOL_CELLS/);
    expect(await h.scan()).toEqual(before);
    expect(await h.usable(h.issuedKeys[0]!)).toBe(true);
    expect(counts(await itemsByTenant(ledgerTable))).toEqual(SEED);
  });
});
