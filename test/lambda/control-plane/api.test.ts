import { hashApiKey } from '../../../lambda/shared/registry-schema';
import { CALLER, pooled, type RegistryHarness, registryServer } from './registry-harness';

const server = registryServer();
beforeAll(() => server.start());
afterAll(() => server.stop());

let h: RegistryHarness;
beforeEach(async () => {
  h = await server.harness();
});

const create = (doc: unknown) => h.call({ method: 'POST', path: '/v1/tenants', body: doc });

/** Calls `c` and expects it to write nothing. */
async function refusedWithoutWrites(c: Parameters<RegistryHarness['call']>[0], status: number, code: string) {
  const before = await h.scan();
  const res = await h.call(c);
  expect({ status: res.status, code: res.body.error?.code }).toEqual({ status, code });
  expect(await h.scan()).toEqual(before);
  return res;
}

describe('POST /v1/tenants', () => {
  it('onboards a pooled tenant: 201, the key shown once, usable at once, in a cell, audited', async () => {
    const res = await create(pooled('tiny-co', { monthlyBudgetUsd: 20 }));
    expect(res.status).toBe(201);
    expect(res.body.apiKey).toMatch(/^sbk_[\w-]{43}$/);
    expect(res.body.tenant).toMatchObject({
      tenantId: 'tiny-co',
      plan: 'basic',
      isolation: 'pool',
      cell: 'pool-1',
      status: 'active',
      version: 1,
      throttle: { rateLimit: 5, burstLimit: 10 },
      runtime: { tenantId: 'tiny-co', monthlyBudgetUsd: 20 },
    });
    expect(res.body.tenant.keyHash).toBeUndefined();
    expect(await h.lookup(res.body.apiKey)).toEqual({ tenantId: 'tiny-co', status: 'active', cell: 'pool-1' });
    const got = await h.call({ method: 'GET', path: '/v1/tenants/tiny-co' });
    expect(got.status).toBe(200);
    expect(got.body.apiKey).toBeUndefined();
    expect(JSON.stringify(got.body)).not.toContain(res.body.apiKey);
    const audit = await h.registry.listAudit('tiny-co');
    expect(audit).toEqual([expect.objectContaining({ action: 'create', who: CALLER, after: res.body.tenant })]);
  });

  it('never stores a key in plain text: only its SHA-256', async () => {
    const a = await create(pooled('plain-a'));
    const b = await h.call({ method: 'PATCH', path: '/v1/tenants/plain-a', body: { rotateKey: true } });
    const dump = JSON.stringify(await h.scan());
    for (const key of [a.body.apiKey, b.body.apiKey]) {
      expect(dump).not.toContain(key);
      expect(dump).not.toContain(key.slice(4));
      expect(dump).toContain(hashApiKey(key));
    }
  });

  it('refuses a silo tenant with 422, saying how silo tenants are added, and writes nothing', async () => {
    const res = await refusedWithoutWrites(
      {
        method: 'POST',
        path: '/v1/tenants',
        body: { id: 'big-co', plan: 'standard', escalation: { reviewerEmails: ['r@big.example.com'] } },
      },
      422,
      'silo_tenant',
    );
    expect(res.body.error.message).toMatch(/tenants\/<id>\.yaml.*deploy/);
    await refusedWithoutWrites(
      { method: 'POST', path: '/v1/tenants', body: pooled('b-silo', { isolation: 'silo' }) },
      422,
      'silo_tenant',
    );
  });

  it('accepts a standard tenant that asks for the pool', async () => {
    const res = await create({
      id: 'std-pool',
      plan: 'standard',
      isolation: 'pool',
      escalation: { reviewerEmails: ['r@x.io'] },
    });
    expect(res.status).toBe(201);
    expect(res.body.tenant).toMatchObject({ plan: 'standard', isolation: 'pool' });
  });

  it('refuses a duplicate id with 409 and writes nothing', async () => {
    expect((await create(pooled('dup-co'))).status).toBe(201);
    await refusedWithoutWrites({ method: 'POST', path: '/v1/tenants', body: pooled('dup-co') }, 409, 'tenant_exists');
  });

  it("refuses bad documents with the tenant loader's messages, naming each field, and writes nothing", async () => {
    const res = await refusedWithoutWrites(
      { method: 'POST', path: '/v1/tenants', body: { id: 'Bad', plan: 'gold', tier: 'x', monthlyBudgetUsd: -1 } },
      422,
      'invalid_tenant',
    );
    expect(res.body.error.message).toContain('id: got "Bad"; must be 3–32 characters');
    expect(res.body.error.message).toContain('plan: got "gold"; allowed: "basic" | "standard" | "premium"');
    expect(res.body.error.message).toContain('tier: renamed to "plan"');
    expect(res.body.error.message).toContain('monthlyBudgetUsd: got -1; must be at least 0');
    await refusedWithoutWrites({ method: 'POST', path: '/v1/tenants', rawBody: '{"id":' }, 400, 'invalid_json');
    await refusedWithoutWrites({ method: 'POST', path: '/v1/tenants', rawBody: '[]' }, 400, 'invalid_request');
    await refusedWithoutWrites(
      { method: 'POST', path: '/v1/tenants', body: pooled('anon-co'), caller: null },
      403,
      'forbidden',
    );
  });

  it('refuses a pooled rate one DynamoDB partition cannot count, with the same line as synth, and writes nothing', async () => {
    const res = await refusedWithoutWrites(
      {
        method: 'POST',
        path: '/v1/tenants',
        body: { ...pooled('fast-co'), throttle: { rateLimit: 1_001, burstLimit: 2_000 } },
      },
      422,
      'invalid_tenant',
    );
    expect(res.body.error.message).toContain(
      'throttle.rateLimit: 1001 requests/s is above the 1,000 a pooled tenant may have',
    );
  });

  it('places tenants in the first cell with room and answers 503 when every cell is full', async () => {
    h = await server.harness([
      { id: 'pool-1', capacity: 2 },
      { id: 'pool-2', capacity: 1 },
    ]);
    const cells = [];
    for (const id of ['c-one', 'c-two', 'c-three']) cells.push((await create(pooled(id))).body.tenant.cell);
    expect(cells).toEqual(['pool-1', 'pool-1', 'pool-2']);
    const full = await create(pooled('c-four'));
    expect(full.status).toBe(503);
    expect(full.body.error).toMatchObject({ code: 'pool_full', message: expect.stringMatching(/add a cell/) });
    expect(await h.registry.getTenant('c-four')).toBeUndefined();
    // Offboarding frees a place.
    expect((await h.call({ method: 'DELETE', path: '/v1/tenants/c-one' })).status).toBe(200);
    expect((await create(pooled('c-five'))).body.tenant.cell).toBe('pool-1');
  });
});

describe('GET /v1/tenants', () => {
  it('pages through every tenant by id', async () => {
    const ids = Array.from({ length: 7 }, (_, i) => `page-${i}`);
    for (const id of ids) await create(pooled(id));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await h.call({
        method: 'GET',
        path: '/v1/tenants',
        query: { limit: '3', ...(cursor ? { cursor } : {}) },
      });
      expect(res.status).toBe(200);
      expect(res.body.tenants.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.tenants.map((t: { tenantId: string }) => t.tenantId));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids);
  });

  it('refuses a bad limit or cursor with 400 naming it', async () => {
    const a = await h.call({ method: 'GET', path: '/v1/tenants', query: { limit: '0' } });
    expect(a.body.error).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/^limit:/) });
    const b = await h.call({ method: 'GET', path: '/v1/tenants', query: { cursor: 'nope' } });
    expect(b.body.error).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/^cursor:/) });
  });

  it('answers 404 for an unknown tenant and 405 for an unknown method', async () => {
    expect((await h.call({ method: 'GET', path: '/v1/tenants/ghost' })).body.error.code).toBe('not_found');
    const res = await h.call({ method: 'PUT', path: '/v1/tenants/ghost' });
    expect(res.status).toBe(405);
  });
});
