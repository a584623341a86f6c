import { CALLER, pooled, type RegistryHarness, registryServer } from './registry-harness';

const server = registryServer();
beforeAll(() => server.start());
afterAll(() => server.stop());

let h: RegistryHarness;
let key: string;
beforeEach(async () => {
  h = await server.harness();
  key = (await h.call({ method: 'POST', path: '/v1/tenants', body: pooled('life-co') })).body.apiKey;
});

const patch = (body: unknown, caller?: string) =>
  h.call({ method: 'PATCH', path: '/v1/tenants/life-co', body, ...(caller ? { caller } : {}) });

describe('PATCH /v1/tenants/{id}', () => {
  it('changes plan, budget and limits through the tenant file schema, keeping the tenant in its pool', async () => {
    const res = await patch({
      plan: 'standard',
      monthlyBudgetUsd: 900,
      limits: { maxPromptChars: 5000 },
      offboarding: { data: 'delete' },
    });
    expect(res.status).toBe(200);
    expect(res.body.tenant).toMatchObject({
      plan: 'standard',
      isolation: 'pool',
      cell: 'pool-1',
      version: 2,
      throttle: { rateLimit: 20 },
      runtime: { plan: 'standard', monthlyBudgetUsd: 900, limits: { maxPromptChars: 5000 } },
      document: { offboarding: { data: 'delete' } },
    });
    expect(await h.usable(key)).toBe(true);
  });

  it('refuses bad changes with 4xx naming the field and writes nothing', async () => {
    const cases: Array<[unknown, number, string, RegExp]> = [
      [{ monthlyBudgetUsd: -5 }, 422, 'invalid_tenant', /monthlyBudgetUsd: got -5; must be at least 0/],
      [{ suspend: false }, 400, 'invalid_request', /^Invalid change: suspend:/],
      [{ isolation: 'silo' }, 400, 'invalid_request', /isolation: not changeable here/],
      [{ suspend: true, resume: true }, 400, 'invalid_request', /suspend, resume/],
      [{}, 400, 'invalid_request', /Empty change/],
      [{ limits: { maxPromptChars: 'x' } }, 422, 'invalid_tenant', /limits\.maxPromptChars: got "x"; expected number/],
      [{ plan: 'gold' }, 422, 'invalid_tenant', /plan: got "gold"/],
      [{ offboarding: { data: 'shred' } }, 422, 'invalid_tenant', /offboarding\.data: got "shred"/],
      [{ limits: { maxOutputTokens: 100, defaultMaxTokens: 500 } }, 422, 'invalid_tenant', /limits\./],
    ];
    for (const [body, status, code, message] of cases) {
      const before = await h.scan();
      const res = await patch(body);
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status, code });
      expect(res.body.error.message).toMatch(message);
      expect(await h.scan()).toEqual(before);
    }
    expect((await h.call({ method: 'PATCH', path: '/v1/tenants/ghost', body: { suspend: true } })).status).toBe(404);
  });

  it('suspend and resume take effect at the next key lookup', async () => {
    expect((await patch({ suspend: true })).body.tenant.status).toBe('suspended');
    expect(await h.lookup(key)).toMatchObject({ tenantId: 'life-co', status: 'suspended' });
    expect(await h.usable(key)).toBe(false);
    expect((await patch({ resume: true })).body.tenant.status).toBe('active');
    expect(await h.usable(key)).toBe(true);
  });

  it('rotateKey shows a new key once and revokes the old one at once', async () => {
    const res = await patch({ rotateKey: true });
    expect(res.status).toBe(200);
    expect(res.body.apiKey).toMatch(/^sbk_/);
    expect(res.body.apiKey).not.toBe(key);
    expect(await h.lookup(key)).toBeUndefined();
    expect(await h.usable(res.body.apiKey)).toBe(true);
    const again = await patch({ rotateKey: true });
    expect(await h.lookup(res.body.apiKey)).toBeUndefined();
    expect(await h.usable(again.body.apiKey)).toBe(true);
  });
});

describe('DELETE /v1/tenants/{id}', () => {
  it('revokes the key at once, marks the tenant deleted and writes an evidence record', async () => {
    const res = await h.call({ method: 'DELETE', path: '/v1/tenants/life-co' });
    expect(res.status).toBe(200);
    expect(res.body.tenant.status).toBe('deleted');
    expect(await h.lookup(key)).toBeUndefined();
    expect(res.body.evidence).toMatchObject({
      tenantId: 'life-co',
      who: CALLER,
      at: expect.any(String),
      retentionDays: 30,
      counts: {
        activeApiKeys: { before: 1, after: 0 },
        activeTenantEntries: { before: 1, after: 0 },
      },
    });
    const stored = (await h.scan()).filter((i) => String(i.pk).startsWith('EVIDENCE#'));
    expect(stored).toEqual([expect.objectContaining({ pk: 'EVIDENCE#life-co', counts: res.body.evidence.counts })]);
    // Deleted tenants cannot be changed, offboarded again or recreated (ids are not reused).
    expect((await patch({ resume: true })).body.error.code).toBe('tenant_deleted');
    expect((await h.call({ method: 'DELETE', path: '/v1/tenants/life-co' })).body.error.code).toBe('tenant_deleted');
    const again = await h.call({ method: 'POST', path: '/v1/tenants', body: pooled('life-co') });
    expect(again.body.error.code).toBe('tenant_exists');
    expect(await h.usable(key)).toBe(false);
  });
});

describe('audit trail', () => {
  it('records every action with who, what, when, before and after', async () => {
    await patch({ monthlyBudgetUsd: 70 }, 'arn:aws:iam::111122223333:user/alice');
    await patch({ suspend: true });
    await patch({ resume: true });
    await patch({ rotateKey: true });
    await h.call({ method: 'DELETE', path: '/v1/tenants/life-co' });
    const audit = await h.registry.listAudit('life-co');
    expect(audit.map((a) => a.action)).toEqual(['create', 'update', 'suspend', 'resume', 'rotateKey', 'delete']);
    expect(audit.map((a) => a.who)).toEqual([
      CALLER,
      'arn:aws:iam::111122223333:user/alice',
      CALLER,
      CALLER,
      CALLER,
      CALLER,
    ]);
    for (const a of audit) expect(Date.parse(a.at)).not.toBeNaN();
    const [, update, suspend] = audit as Array<{
      before: { runtime: { monthlyBudgetUsd: number } };
      after: { runtime: { monthlyBudgetUsd: number }; status: string };
    }>;
    expect([update!.before.runtime.monthlyBudgetUsd, update!.after.runtime.monthlyBudgetUsd]).toEqual([50, 70]);
    expect(suspend!.after.status).toBe('suspended');
    expect(JSON.stringify(audit)).not.toMatch(/keyHash|sbk_/);
  });
});

describe('silo tenants in the registry', () => {
  it('may be suspended and resumed, but are changed, re-keyed and offboarded by file and deploy', async () => {
    const item = {
      ...(await h.registry.getTenant('life-co'))!,
      tenantId: 'silo-co',
      isolation: 'silo' as const,
      cell: 'silo',
    };
    expect(await h.registry.putNewTenant(item)).toBe(true);
    const call = (method: string, body?: unknown) => h.call({ method, path: '/v1/tenants/silo-co', body });
    for (const [method, body] of [
      ['PATCH', { monthlyBudgetUsd: 10 }],
      ['PATCH', { rotateKey: true }],
      ['DELETE', undefined],
    ] as const) {
      const before = await h.scan();
      const res = await call(method, body);
      expect(res.body.error).toMatchObject({
        code: 'silo_tenant',
        message: expect.stringMatching(/tenants\/silo-co\.yaml/),
      });
      expect(await h.scan()).toEqual(before);
    }
    expect((await call('PATCH', { suspend: true })).body.tenant.status).toBe('suspended');
  });
});
