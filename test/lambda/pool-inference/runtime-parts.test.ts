/**
 * The pooled function's parts on their own: reading a registry item (what is served, what is refused, what is an
 * error), the container cache of items, the plan guardrails, the authorizer's tenant, and the reconciliation's
 * window and bounds.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { newTenantItem, resolveDocument } from '../../../lambda/control-plane/core/tenant-items';
import type { InferenceService } from '../../../lambda/inference/core/service';
import { guardrailFor, NoPoolGuardrailError, parsePlanGuardrails } from '../../../lambda/pool-inference/guardrails';
import { RECONCILE_TENANTS_PER_RUN, reconcileCell, reconcileWindow } from '../../../lambda/pool-inference/reconcile';
import { authorizedTenantOf, MissingTenantContextError } from '../../../lambda/pool-inference/runtime';
import {
  lookupOf,
  MalformedTenantItemError,
  TENANT_CACHE_TTL_MS,
  TenantDirectory,
  type TenantRegistry,
} from '../../../lambda/pool-inference/tenant-directory';
import { makeTelemetry } from '../../../lambda/shared/telemetry';
import { RECONCILE_EVERY_MINUTES } from '../../../lambda/shared/tenant-runtime';

/** A tenant item as the control plane writes it. */
function item(id: string, extra: Record<string, unknown> = {}, cell = 'pool-1') {
  const document = { id, plan: 'basic', escalation: { reviewerEmails: ['r@example.com'] }, ...extra };
  return {
    ...newTenantItem(resolveDocument(document), document, cell, 'sbk_key', '2026-12-02T10:00:00.000Z'),
  } as unknown as Record<string, unknown>;
}

describe('a registry item, read by the cell', () => {
  it('serves an active tenant of this cell with its runtime config and its own limits', () => {
    const found = lookupOf('acme', 'pool-1', item('acme'));
    expect(found).toMatchObject({
      served: true,
      tenant: { tenantId: 'acme', runtime: { tenantId: 'acme', plan: 'basic' } },
    });
    if (found.served)
      expect(found.tenant.limits).toEqual({ rateLimit: 5, burstLimit: 10, quota: { limit: 50_000, period: 'MONTH' } });
  });

  it('refuses an unknown, suspended or offboarded tenant, and one placed in another cell', () => {
    expect(lookupOf('acme', 'pool-1', undefined)).toEqual({ served: false, reason: 'unknown' });
    expect(lookupOf('acme', 'pool-1', { ...item('acme'), status: 'suspended' })).toEqual({
      served: false,
      reason: 'suspended',
    });
    expect(lookupOf('acme', 'pool-1', { ...item('acme'), status: 'deleted' })).toEqual({
      served: false,
      reason: 'deleted',
    });
    expect(lookupOf('acme', 'pool-1', item('acme', {}, 'pool-2'))).toEqual({ served: false, reason: 'other_cell' });
  });

  it('is an error, never a guess, when malformed or naming another tenant', () => {
    expect(() => lookupOf('acme', 'pool-1', { ...item('acme'), runtime: { tenantId: 'acme' } })).toThrow(
      MalformedTenantItemError,
    );
    expect(() => lookupOf('acme', 'pool-1', { ...item('acme'), status: 'paused' })).toThrow(/status/);
    expect(() => lookupOf('acme', 'pool-1', item('globex'))).toThrow(/names tenant globex/);
  });

  it('is read once per tenant per 10 s by a warm container (refusals too)', async () => {
    let reads = 0;
    let now = 0;
    const registry: TenantRegistry = {
      async getTenant(id) {
        reads++;
        return id === 'acme' ? item('acme') : undefined;
      },
      activeTenantsOf: async () => [],
    };
    const directory = new TenantDirectory(registry, 'pool-1', () => now);
    for (let i = 0; i < 5; i++) await Promise.all([directory.lookup('acme'), directory.lookup('nobody')]);
    expect(reads).toBe(2);
    now += TENANT_CACHE_TTL_MS;
    await directory.lookup('acme');
    expect(reads).toBe(3);
  });
});

describe("the cell's plan guardrails", () => {
  const g = { arn: 'arn:aws:bedrock:us-east-1:111111111111:guardrail/abc123', version: '2' };
  it('gives a tenant its plan guardrail, and refuses one that customizes its own or a plan the cell lacks', () => {
    const plans = parsePlanGuardrails(JSON.stringify({ basic: g }));
    const runtime = lookupOf('acme', 'pool-1', item('acme'));
    if (!runtime.served) throw new Error('not served');
    expect(guardrailFor(runtime.tenant.runtime, plans)).toEqual(g);
    expect(() => guardrailFor({ ...runtime.tenant.runtime, plan: 'premium' }, plans)).toThrow(NoPoolGuardrailError);
    expect(() =>
      guardrailFor({ ...runtime.tenant.runtime, guardrail: { source: 'tenant', policies: [] } }, plans),
    ).toThrow(/customizes its guardrail/);
  });
  it('refuses a malformed POOL_GUARDRAILS at init', () => {
    expect(() => parsePlanGuardrails('{"basic":{"arn":"x","version":"1"}}')).toThrow(/guardrail ARN/);
    expect(() => parsePlanGuardrails('{"gold":{"arn":"x","version":"1"}}')).toThrow();
  });
});

describe("the authorizer's tenant", () => {
  const event = (authorizer: unknown) => ({ requestContext: { authorizer } }) as unknown as APIGatewayProxyEvent;
  it('is read from requestContext.authorizer.tenantId only, and must be a tenant id', () => {
    expect(authorizedTenantOf(event({ tenantId: 'acme' }))).toBe('acme');
    for (const bad of [
      undefined,
      null,
      {},
      { tenantId: '' },
      { tenantId: 'ACME' },
      { tenantId: 'a#b' },
      { tenantId: 7 },
    ]) {
      expect(() => authorizedTenantOf(event(bad))).toThrow(MissingTenantContextError);
    }
  });
});

describe("the cell's reconciliation", () => {
  it('takes every tenant when they fit one run, and a window that covers them all over a few runs otherwise', () => {
    const ids = Array.from({ length: 450 }, (_, i) => `t${String(i).padStart(4, '0')}`);
    expect(reconcileWindow(ids.slice(0, 10), 0)).toEqual(ids.slice(0, 10));
    const period = RECONCILE_EVERY_MINUTES * 60_000;
    const seen = new Set<string>();
    for (let run = 0; run < 3; run++) {
      const w = reconcileWindow(ids, run * period);
      expect(w).toHaveLength(RECONCILE_TENANTS_PER_RUN);
      for (const id of w) seen.add(id);
    }
    expect(seen.size).toBe(ids.length);
  });

  it("reconciles each served tenant with its own service; one tenant's failure does not stop the others", async () => {
    const registry: TenantRegistry = {
      getTenant: async (id) => (id === 'gone' ? undefined : item(id)),
      activeTenantsOf: async () => ['aaa', 'bad', 'gone', 'zzz'],
    };
    const lines: string[] = [];
    const months = { '2026-11': { settled: 0, released: 0 }, '2026-12': { settled: 1, released: 0 } };
    const run = await reconcileCell({
      directory: new TenantDirectory(registry, 'pool-1', Date.now),
      serviceOf: (t) =>
        ({
          reconcileRecent: async () => {
            if (t.tenantId === 'bad') throw Object.assign(new Error('down'), { name: 'ServiceUnavailable' });
            return months;
          },
        }) as unknown as InferenceService,
      telemetry: makeTelemetry({ tenantId: 'pool-1', service: 'pool-inference', sink: (l) => lines.push(l) }),
      now: Date.now,
    });
    expect(run).toMatchObject({ tenants: 4, attempted: 3, settled: 2, released: 0, failed: 1 });
    expect(Object.keys(run.reconciled).sort()).toEqual(['aaa', 'zzz']);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'WARN', failedTenants: { bad: 'ServiceUnavailable' } });
  });
});
