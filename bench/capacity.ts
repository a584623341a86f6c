/**
 * Capacity of the two tenancy models, from the capacity model (lib/capacity) with the repository's platform
 * configuration: tenants per region and per account, resources and idle cost per tenant, for silo and pooled
 * tenants. Measured beside it: the registry items the control plane really writes when it onboards pooled tenants
 * (handler, DynamoDB adapter, dynalite), priced like the model prices them, and the time the model takes to
 * assess a fleet of 10,000 pooled tenants at synth.
 */
import { performance } from 'node:perf_hooks';
import { PLANS } from '../lambda/shared/tenant-vocabulary';
import { dynamoItemBytes } from '../lib/capacity/footprint';
import { assessCapacity } from '../lib/capacity/model';
import { cellsFor, POOLED_TENANTS_TARGET_PER_REGION } from '../lib/capacity/pool';
import { PRICES } from '../lib/capacity/prices';
import type { ModelsReport } from '../lib/capacity/types';
import { resolveTenant, type TenantConfig } from '../lib/config/tenant-config';
import { pooled, registryServer } from '../test/lambda/control-plane/registry-harness';
import { repoPlatformConfig } from '../test/support/synth';
import { atLeast, atMost, type Check, median } from './stats';

export interface CapacityResults {
  readonly models: ModelsReport;
  /** The fleet of the target (10,000 pooled tenants and a few silo ones) with the cells it needs. */
  readonly target: { readonly pooled: number; readonly cells: number; readonly crossed: readonly string[] };
  /** Median time to assess that fleet (ms). */
  readonly assessMs: number;
  /** Registry bytes per onboarded pooled tenant (table and index), measured on dynalite, and its monthly cost. */
  readonly measured: {
    readonly tenants: number;
    readonly bytesPerTenant: number;
    readonly monthlyUsdPerTenant: number;
  };
  readonly checks: Check[];
}

const BYTES_PER_GB = 1024 ** 3;
const ITEM_OVERHEAD = 100;

/** `n` pooled tenants of the basic plan (one resolved, copied under new ids). */
function pooledFleet(n: number): TenantConfig[] {
  const one = resolveTenant({ id: 'bench-pooled', plan: 'basic', escalation: { reviewerEmails: ['r@example.com'] } })
    .tenant!;
  return Array.from({ length: n }, (_, i) => ({ ...one, id: `bench-pooled-${i}` }));
}

/** Onboards `n` pooled tenants through the control plane and measures the registry bytes each keeps. */
async function measureRegistry(n: number): Promise<{ tableBytes: number; storedBytes: number }> {
  const server = registryServer([{ id: 'pool-1', capacity: n + 10 }]);
  await server.start();
  try {
    const h = await server.harness();
    for (let i = 0; i < n; i++) {
      const res = await h.call({ method: 'POST', path: '/v1/tenants', body: pooled(`cap-${i}`) });
      if (res.status !== 201) throw new Error(`onboarding cap-${i} failed: ${JSON.stringify(res.body)}`);
    }
    // Every item but the cell's occupancy counter belongs to a tenant; the tenant items are in the byKind index too.
    let table = 0;
    let index = 0;
    for (const item of await h.scan()) {
      if (String(item.pk).startsWith('CELL#')) continue;
      const b = dynamoItemBytes(item) + ITEM_OVERHEAD;
      table += b;
      if (item.kind === 'TENANT') index += b;
    }
    return { tableBytes: table / n, storedBytes: (table + index) / n };
  } finally {
    await server.stop();
  }
}

export async function benchCapacity(opts: { tenants: number; log: (s: string) => void }): Promise<CapacityResults> {
  const platform = repoPlatformConfig();
  const { report } = assessCapacity({ tenants: [], platform, partial: false });
  const models = report.models!;

  const cells = cellsFor(POOLED_TENANTS_TARGET_PER_REGION);
  // One silo tenant of each plan beside the pooled ones.
  const silo = PLANS.map(
    (plan, i) =>
      resolveTenant({
        id: `bench-silo-${i}`,
        plan,
        isolation: 'silo',
        escalation: { reviewerEmails: ['r@example.com'] },
      }).tenant!,
  );
  const fleet = [...pooledFleet(POOLED_TENANTS_TARGET_PER_REGION), ...silo];
  const times: number[] = [];
  let crossed: string[] = [];
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    crossed = assessCapacity({ tenants: fleet, platform, partial: false, poolCells: cells }).crossed.map((q) => q.id);
    times.push(performance.now() - started);
  }
  opts.log(`assessed ${fleet.length} tenants with ${cells} cells`);

  const { tableBytes, storedBytes } = await measureRegistry(opts.tenants);
  opts.log(`onboarded ${opts.tenants} pooled tenants, registry measured`);
  // Priced as the model prices it: storage on table and index bytes, continuous backup on the table bytes.
  const monthlyUsdPerTenant =
    (storedBytes / BYTES_PER_GB) * PRICES.dynamodbStorage.usd + (tableBytes / BYTES_PER_GB) * PRICES.dynamodbPitr.usd;
  const bytesPerTenant = storedBytes;
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    models,
    target: { pooled: POOLED_TENANTS_TARGET_PER_REGION, cells, crossed },
    assessMs: round(median(times)),
    measured: { tenants: opts.tenants, bytesPerTenant: Math.round(bytesPerTenant), monthlyUsdPerTenant },
    checks: [
      atLeast(
        'pooledPerRegion',
        'Pooled tenants per region (capacity model, AWS default quotas)',
        models.pool.fit.perRegion,
        POOLED_TENANTS_TARGET_PER_REGION,
        'tenants',
        `≥ ${POOLED_TENANTS_TARGET_PER_REGION.toLocaleString('en-US')}`,
        `${models.pool.cellsFit.perRegion} cells of ${models.pool.tenantsPerCell} (first ceiling ${models.pool.cellsFit.perRegionCeiling}); the target needs ${cells} cells in cdk.json poolCells, the default platform has ${models.pool.cells}`,
      ),
      atMost(
        'pooledIdleCost',
        'Idle cost per pooled tenant (registry items measured on dynalite, millionths of a USD a month)',
        Math.round(monthlyUsdPerTenant * 1e6 * 100) / 100,
        0.1 * 1e6,
        'µUSD',
        '≤ $0.10 (100,000 µUSD)',
        `model: ${models.pool.idleMonthlyUsdPerTenant.toExponential(2)} USD; the cell's fixed cost per place ${models.pool.fixedCostPerPlaceUsd.toFixed(4)} USD, shown apart`,
      ),
      atMost(
        'pooledResources',
        'CloudFormation resources added per pooled tenant',
        models.pool.resourcesPerTenant,
        0,
        'resources',
        '0',
      ),
    ],
  };
}
