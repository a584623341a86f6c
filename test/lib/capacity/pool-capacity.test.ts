import { App } from 'aws-cdk-lib';
import { MAX_CACHED_TENANTS } from '../../../lambda/shared/tenant-credentials';
import {
  CONTROL_PLANE,
  dynamoItemBytes,
  idleCost,
  POOL_CELL_RESOURCES,
  poolCellFixedCost,
  pooledIdleCost,
  pooledRegistryFootprint,
} from '../../../lib/capacity/footprint';
import { assessCapacity, CapacityError, POOL_PLACES_ID } from '../../../lib/capacity/model';
import {
  BINDING_CELL_LIMIT,
  POOL_CELL_LIMITS,
  POOLED_TENANTS_TARGET_PER_REGION,
  TENANTS_PER_POOL_CELL,
} from '../../../lib/capacity/pool';
import { QUOTA_IDS, SEARCH_LIMITS } from '../../../lib/capacity/quotas';
import type { PlatformConfig } from '../../../lib/config/platform-config';
import { resolveTenant, type TenantConfig } from '../../../lib/config/tenant-config';
import { buildSwitchboard } from '../../../lib/switchboard';
import { repoPlatformConfig, tenantDir } from '../../support/synth';

/** A resolved tenant of `plan` (basic: pooled by default). */
function tenant(id: string, plan: 'basic' | 'standard' = 'basic', extra: object = {}): TenantConfig {
  const r = resolveTenant({ id, plan, escalation: { reviewerEmails: ['r@example.com'] }, ...extra });
  if (!r.tenant) throw new Error(r.problems.map((p) => p.message).join('; '));
  return r.tenant;
}

/** `n` pooled tenants (one resolved, copied under new ids: resolving 10,000 files is the loader's test, not this one's). */
function pooled(n: number): TenantConfig[] {
  const one = tenant('pooled-0');
  expect(one.isolation).toBe('pool');
  return Array.from({ length: n }, (_, i) => ({ ...one, id: `pooled-${String(i).padStart(5, '0')}` }));
}

const sum = (items: readonly { usd: number }[]) => items.reduce((n, i) => n + i.usd, 0);

describe('pool cells in the capacity model', () => {
  let platform: PlatformConfig;
  beforeAll(() => {
    platform = repoPlatformConfig();
  });

  it('holds as many tenants per cell as the tightest per-cell limit: the SEARCH series of the per-cell dashboard, below the session cache', () => {
    expect(TENANTS_PER_POOL_CELL).toBe(Math.min(...POOL_CELL_LIMITS.map((l) => l.tenants)));
    expect(BINDING_CELL_LIMIT.id).toBe(QUOTA_IDS.searchSeries);
    expect(TENANTS_PER_POOL_CELL).toBe(SEARCH_LIMITS.seriesPerSearch);
    expect(TENANTS_PER_POOL_CELL).toBeLessThanOrEqual(MAX_CACHED_TENANTS);
    for (const l of POOL_CELL_LIMITS) expect(l.source.url).toBeTruthy();
  });

  it('fits 10,000 pooled tenants in a region with 20 cells, with no quota crossed and no API key, usage plan or stack of their own', () => {
    const cells = Math.ceil(POOLED_TENANTS_TARGET_PER_REGION / TENANTS_PER_POOL_CELL);
    expect(cells).toBe(20);
    const tenants = [...pooled(POOLED_TENANTS_TARGET_PER_REGION), tenant('silo-one', 'standard')];
    const { report, crossed } = assessCapacity({ tenants, platform, partial: false, poolCells: cells });
    expect(crossed).toEqual([]);
    const use = (id: string) => report.quotas.find((q) => q.id === id)!;
    expect(use(POOL_PLACES_ID)).toMatchObject({ used: 10_000, limit: 10_000, crossed: false });
    // The one silo tenant is the only one with an API key and a usage plan.
    expect(use(QUOTA_IDS.apiKeys).used).toBe(1);
    expect(use(QUOTA_IDS.usagePlans).used).toBe(1);
    // Stacks: the platform, the control plane, 20 cells and one silo tenant; REST APIs: the same but the platform.
    expect(use(QUOTA_IDS.stacks).used).toBe(1 + 1 + cells + 1);
    expect(use(QUOTA_IDS.restApis).used).toBe(1 + cells + 1);
    expect(report.models?.pool).toMatchObject({
      cells,
      places: 10_000,
      freePlaces: 0,
      configuredCellsReachTarget: true,
    });
  });

  it('says how many pooled and silo tenants a region and an account take, and which quota stops each', () => {
    const { report } = assessCapacity({ tenants: [], platform, partial: false });
    const { silo, pool } = report.models!;
    expect(pool.fit.perRegion).toBeGreaterThanOrEqual(POOLED_TENANTS_TARGET_PER_REGION);
    expect(pool.fit.perRegion).toBe(pool.cellsFit.perRegion * TENANTS_PER_POOL_CELL);
    expect(pool.regionReachesTargetAtDefaults).toBe(true);
    // The default platform has one cell: 500 places, short of the target; 20 cells reach it.
    expect(pool).toMatchObject({ cells: 1, places: 500, cellsForTarget: 20, configuredCellsReachTarget: false });
    // IAM's roles bind both models with the defaults (3 per cell, 5 per silo tenant). At best (only quotas AWS does
    // not raise): silo tenants by the control plane's template (500 resources, 40 of its own and one registration
    // per silo tenant), cells by the 600 REST APIs (599 beside the control plane's).
    expect(silo.fit).toMatchObject({
      perRegionCeiling: QUOTA_IDS.roles,
      perRegionAtBestCeiling: QUOTA_IDS.resourcesPerStack,
    });
    expect(silo.fit.perRegionAtBest).toBe(500 - CONTROL_PLANE.baseResources);
    expect(pool.cellsFit.perRegionAtBestCeiling).toBe(QUOTA_IDS.restApis);
    // So the fleet dashboard's one SEARCH over the silo tenants sees every one of them, even at best.
    expect(silo.fit.perRegionAtBest).toBeLessThanOrEqual(SEARCH_LIMITS.seriesPerSearch);
    expect(pool.cellsFit.perRegionAtBest).toBe(599);
    expect(pool.fit.perRegionAtBest).toBe(599 * TENANTS_PER_POOL_CELL);
    expect(pool.fit.perRegion).toBeGreaterThan(100 * silo.fit.perRegion);
    expect(pool.fit.perAccountCeiling).toBe(QUOTA_IDS.roles);
    expect({ silo: silo.resourcesPerTenant > 100, pool: pool.resourcesPerTenant }).toEqual({ silo: true, pool: 0 });
    expect({ keys: pool.apiKeysPerTenant, plans: pool.usagePlansPerTenant }).toEqual({ keys: 0, plans: 0 });
  });

  it('fails the synth of more pooled tenant files than the cells hold, naming the limit, who pushes it over and the cell to add', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i <= TENANTS_PER_POOL_CELL; i++) {
      const id = `pooled-${String(i).padStart(4, '0')}`;
      files[id] = `id: ${id}\nplan: basic\nisolation: pool\nescalation:\n  reviewerEmails: [r@example.com]\n`;
    }
    const app = new App();
    let error: unknown;
    try {
      buildSwitchboard(app, { platform, tenantsDir: tenantDir(files), compliance: false });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CapacityError);
    expect((error as CapacityError).crossed.map((q) => q.id)).toEqual([POOL_PLACES_ID]);
    expect((error as CapacityError).message).toBe(
      'The fleet would cross 1 limit:\n' +
        '  - Switchboard "Pooled tenants the pool cells hold (cells × tenants per cell)" (pool.cellPlaces): 501 needed, limit 500 (cdk.json); ' +
        'pushed over by pooled-0500; add a cell to cdk.json context.switchboard.poolCells: "pool-2" (2 cells of 500 hold 501 pooled tenants), then deploy it',
    );
    expect(app.node.children).toHaveLength(0);
  });

  it('takes the cells from the platform configuration when it lists them (cdk.json poolCells)', () => {
    const listed = { ...platform, poolCells: ['pool-1', 'pool-2', 'pool-3'] } as PlatformConfig;
    const { report, crossed } = assessCapacity({ tenants: pooled(1_200), platform: listed, partial: false });
    expect(crossed).toEqual([]);
    expect(report.quotas.find((q) => q.id === POOL_PLACES_ID)).toMatchObject({ used: 1_200, limit: 1_500 });
  });

  it('names every cell to add when several are missing, and lets the fleet through once they are configured', () => {
    const tenants = pooled(1_200);
    const { crossed } = assessCapacity({ tenants, platform, partial: false, poolCells: 1 });
    expect(new CapacityError(crossed).message).toContain(
      'add 2 cells to cdk.json context.switchboard.poolCells: "pool-2", "pool-3" (3 cells of 500 hold 1,200 pooled tenants)',
    );
    expect(assessCapacity({ tenants, platform, partial: false, poolCells: 3 }).crossed).toEqual([]);
  });

  it('keeps the silo model as it was: silo tenants take no places, and pooled ones no silo quota', () => {
    const silo = Array.from({ length: 10 }, (_, i) => tenant(`silo-${i}`, 'standard'));
    const mixed = assessCapacity({ tenants: [...silo, ...pooled(400)], platform, partial: false });
    const alone = assessCapacity({ tenants: silo, platform, partial: false });
    for (const q of alone.report.quotas) {
      // Runtime rates (the account's throttle, the models' tokens per minute) count pooled tenants too.
      if (q.id === POOL_PLACES_ID || q.id === QUOTA_IDS.accountThrottle || q.id.startsWith('bedrock.tpm.')) continue;
      expect([q.id, mixed.report.quotas.find((x) => x.id === q.id)?.used]).toEqual([q.id, q.used]);
    }
    expect(mixed.report.quotas.find((q) => q.id === POOL_PLACES_ID)?.used).toBe(400);
    // The pooled tenants' rates still count against the account's API Gateway throttle (shared by every API).
    const throttle = (r: typeof mixed) => r.report.quotas.find((q) => q.id === QUOTA_IDS.accountThrottle)!.used;
    expect(throttle(mixed) - throttle(alone)).toBe(400 * pooled(1)[0]!.throttle.rateLimit);
  });

  it('says how many pooled tenants can be at their full rate at once, and follows a raised Lambda concurrency', () => {
    const at = (quotas: Record<string, number>) =>
      assessCapacity({ tenants: [], platform: { ...platform, quotas }, partial: false }).report.models!.pool.atFullRate;
    const dflt = at({});
    const basic = tenant('rate-sample');
    expect(dflt.ratePerTenant).toBe(basic.throttle.rateLimit);
    expect(dflt.concurrencyPerTenant).toBeCloseTo(dflt.ratePerTenant * dflt.secondsPerRequest, 1);
    expect(dflt.tenantsByApiThrottle).toBe(Math.floor(10_000 / basic.throttle.rateLimit));
    expect(dflt.tenantsByConcurrency).toBe(Math.floor(1_000 / dflt.concurrencyPerTenant));
    // Pooled tenants are oversubscribed: far fewer than a cell can be at full rate at once with the defaults.
    expect(dflt.tenantsByConcurrency).toBeLessThan(TENANTS_PER_POOL_CELL);
    const raised = at({ [QUOTA_IDS.concurrency]: 10_000 });
    expect(raised.tenantsByConcurrency).toBe(Math.floor(10_000 / dflt.concurrencyPerTenant));
  });

  it("counts the control plane's template, which grows by one registration per silo tenant, against the 500 resources of a template", () => {
    const room = 500 - CONTROL_PLANE.baseResources;
    const silo = Array.from({ length: room + 1 }, (_, i) => ({ ...tenant('silo-x', 'standard'), id: `silo-${i}` }));
    // Every adjustable quota raised: only the template's limit is left.
    const raised = {
      ...platform,
      quotas: Object.fromEntries(
        [
          QUOTA_IDS.roles,
          QUOTA_IDS.policies,
          QUOTA_IDS.usagePlans,
          QUOTA_IDS.rules,
          QUOTA_IDS.stacks,
          QUOTA_IDS.tables,
        ].map((id) => [id, 100_000]),
      ),
    };
    const fits = assessCapacity({ tenants: silo.slice(0, room), platform: raised, partial: false });
    expect(fits.crossed).toEqual([]);
    const { crossed } = assessCapacity({ tenants: silo, platform: raised, partial: false });
    expect(crossed.map((q) => [q.id, q.used, q.pushedOverBy])).toEqual([
      [QUOTA_IDS.resourcesPerStack, 501, [`silo-${room}`]],
    ]);
  });

  it('counts the pool cell stack against the 500 resources of a template', () => {
    const { report } = assessCapacity({ tenants: [], platform, partial: false });
    expect(report.quotas.find((q) => q.id === QUOTA_IDS.resourcesPerStack)?.used).toBe(POOL_CELL_RESOURCES);
  });
});

describe('idle cost per pooled tenant', () => {
  it('sizes items as DynamoDB does: names and values, numbers by significant digits, 3 bytes per list or map and 1 per element', () => {
    expect(dynamoItemBytes({ pk: 'TENANT#a' })).toBe(2 + 8);
    expect(dynamoItemBytes({ n: 12345 })).toBe(1 + 3 + 1);
    expect(dynamoItemBytes({ n: 1000 })).toBe(1 + 1 + 1);
    expect(dynamoItemBytes({ ok: true })).toBe(2 + 1);
    expect(dynamoItemBytes({ m: { a: 'xy' } })).toBe(1 + 3 + 1 + 1 + 2);
    expect(dynamoItemBytes({ l: ['ab', 'c'] })).toBe(1 + 3 + (1 + 2) + (1 + 1));
  });

  it('costs at most $0.10 a month: its registry items only, computed from the items the control plane writes', () => {
    const t = tenant('idle-pooled');
    const items = pooledIdleCost(t);
    const monthly = sum(items);
    expect(monthly).toBeGreaterThan(0);
    expect(monthly).toBeLessThanOrEqual(0.1);
    const f = pooledRegistryFootprint(t);
    expect(f.items.map((i) => i.item)).toEqual(['tenant item', 'API key item', 'audit entry (creation)']);
    // Each item carries its 100 bytes of overhead; the tenant item is stored twice (table and byKind index).
    for (const i of f.items) expect(i.bytes).toBeGreaterThan(100);
    expect(f.storedBytes).toBe(f.tableBytes + f.items[0]!.bytes);
    // A larger tenant item (more reviewers in its runtime config) costs more: the figure follows the items.
    const bigger = tenant('idle-pooled', 'basic', {
      escalation: { reviewerEmails: Array.from({ length: 20 }, (_, i) => `reviewer-${i}@example.com`) },
    });
    expect(pooledRegistryFootprint(bigger).tableBytes).toBeGreaterThanOrEqual(f.tableBytes);
  });

  it('is a tiny share of a silo tenant’s, and the cell’s fixed cost per place is shown apart', () => {
    const { report } = assessCapacity({ tenants: [], platform: repoPlatformConfig(), partial: false });
    const { silo, pool, idleCostRatio } = report.models!;
    expect(silo.idleMonthlyUsdPerTenant).toBeCloseTo(sum(idleCost({ ...tenant('s', 'standard') })), 6);
    expect(silo.idleMonthlyUsdPerTenant).toBeGreaterThan(7);
    expect(pool.idleMonthlyUsdPerTenant).toBeLessThanOrEqual(0.1);
    expect(idleCostRatio).toBeGreaterThan(1_000);
    expect(pool.cellFixedMonthlyUsd).toBeCloseTo(sum(poolCellFixedCost()), 6);
    expect(pool.fixedCostPerPlaceUsd).toBeCloseTo(pool.cellFixedMonthlyUsd / TENANTS_PER_POOL_CELL, 9);
    // Even with its share of the cell, a pooled tenant stays under the target.
    expect(pool.idleMonthlyUsdPerTenant + pool.fixedCostPerPlaceUsd).toBeLessThanOrEqual(0.1);
  });

  it('marks each tenant of the fleet’s idle-cost list with its model', () => {
    const { report } = assessCapacity({
      tenants: [tenant('p-1'), tenant('s-1', 'standard')],
      platform: repoPlatformConfig(),
      partial: false,
    });
    expect(report.idleCost.tenants.map((t) => [t.tenant, t.isolation, t.monthlyUsd > 1])).toEqual([
      ['p-1', 'pool', false],
      ['s-1', 'silo', true],
    ]);
    expect(report.idleCost.tenants[0]!.monthlyUsd).toBeGreaterThan(0);
  });
});
