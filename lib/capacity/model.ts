/**
 * The capacity model: the fleet's use of every AWS quota it consumes, from the tenant files and the platform
 * configuration, against AWS's defaults or the raised values in `cdk.json`. It runs at synth before any stack
 * is built: a crossed deploy-time quota fails the synth in seconds, one line per quota.
 */
import { getModel, isKnownModel } from '../../lambda/shared/catalog';
import { PLANS, type Plan } from '../../lambda/shared/tenant-vocabulary';
import { type PlatformConfig, PlatformConfigError } from '../config/platform-config';
import { resolveTenant, type TenantConfig } from '../config/tenant-config';
import {
  controlPlaneResources,
  controlPlaneUse,
  idleCost,
  idleCostOf,
  POOL_CELL_RESOURCES,
  platformUse,
  poolCellFixedCost,
  poolCellUse,
  pooledIdleCost,
  pooledTenantUse,
  tenantModels,
  tenantResourcesAdded,
  tenantStackResources,
  tenantTokensPerMinute,
  tenantUse,
  useOfTenant,
} from './footprint';
import {
  BINDING_CELL_LIMIT,
  cellsFor,
  POOL_CELL_LIMITS,
  POOLED_TENANT_RATE_CEILING,
  POOLED_TENANTS_TARGET_PER_REGION,
  poolCellId,
  TENANTS_PER_POOL_CELL,
} from './pool';
import { PRICES } from './prices';
import {
  ACCOUNT_WIDE_QUOTAS,
  BEDROCK_TPM_PREFIX,
  BEDROCK_TPM_SOURCE,
  knownQuotaIds,
  LAMBDA_UNRESERVED_MINIMUM,
  QUOTA_IDS,
  QUOTAS,
  type QuotaSpec,
} from './quotas';
import type {
  CapacityReport,
  IdleCostItem,
  ModelCapacity,
  ModelsReport,
  PlanHeadroom,
  PoolCapacity,
  QuotaUse,
  TenantsFit,
} from './types';

/** Thrown when the fleet would cross deploy-time quotas (printed without a stack trace). */
export class CapacityError extends Error {
  constructor(readonly crossed: readonly QuotaUse[]) {
    const aws = crossed.filter((q) => !q.remedy).length;
    const how = aws
      ? ` (raise ${aws === 1 ? 'it' : 'them'} in Service Quotas, then set the raised value in cdk.json under context.switchboard.quotas)`
      : '';
    super(
      `The fleet would cross ${crossed.length} ${aws === crossed.length ? 'AWS quota' : 'limit'}${crossed.length === 1 ? '' : 's'}${how}:\n  - ${crossed.map(describeCrossing).join('\n  - ')}`,
    );
    this.name = 'CapacityError';
  }
}

function describeCrossing(q: QuotaUse): string {
  const shown = q.pushedOverBy.slice(0, 10);
  const more = q.pushedOverBy.length > shown.length ? ` and ${q.pushedOverBy.length - shown.length} more` : '';
  const who = shown.length ? `; pushed over by ${shown.join(', ')}${more}` : '';
  const from = q.remedy ? 'cdk.json' : q.limitFrom === 'cdk.json' ? 'raised in cdk.json' : 'AWS default';
  return `${q.service} "${q.name}" (${q.id}): ${fmt(q.used)} needed, limit ${fmt(q.limit)} (${from})${who}${q.remedy ? `; ${q.remedy}` : ''}`;
}
const fmt = (n: number) => n.toLocaleString('en-US');

/** Options of {@link assessCapacity}. */
export interface CapacityInput {
  readonly tenants: readonly TenantConfig[];
  readonly platform: PlatformConfig;
  /** Only some tenant files were read (`-c tenant=<id>`). */
  readonly partial: boolean;
  /**
   * Pool cells of the platform.
   * @default - the number of `poolCells` of the platform configuration (cdk.json context.switchboard.poolCells),
   * or 1 while the configuration has no such field
   */
  readonly poolCells?: number;
}

/** The cells the platform configuration lists (`poolCells`), 1 when it lists none (the field is added with the cells). */
function configuredCells(platform: PlatformConfig): number {
  const listed = platform.poolCells;
  return listed?.length ?? 1;
}

/** Id of the limit "pooled tenants the configured cells hold". */
export const POOL_PLACES_ID = 'pool.cellPlaces';

/** A tenant of each plan with the plan's defaults (and the one reviewer a tenant with review needs). */
function planTenant(plan: Plan): TenantConfig {
  const r = resolveTenant({ id: `sample-${plan}`, plan, escalation: { reviewerEmails: ['review@example.com'] } });
  if (!r.tenant)
    throw new Error(`plan ${plan} defaults do not resolve: ${r.problems.map((p) => p.message).join('; ')}`);
  return r.tenant;
}

/** Raised limits of cdk.json, checked against the quota catalog; throws on an unknown id. */
function limitsFrom(
  platform: PlatformConfig,
  modelIds: readonly string[],
): (id: string, dflt: number) => [number, 'aws-default' | 'cdk.json'] {
  const known = new Set(knownQuotaIds(modelIds));
  const unknown = Object.keys(platform.quotas).filter(
    (k) => !known.has(k) && !(k.startsWith(BEDROCK_TPM_PREFIX) && isKnownModel(k.slice(BEDROCK_TPM_PREFIX.length))),
  );
  if (unknown.length) {
    throw new PlatformConfigError([
      `cdk.json context "switchboard": quotas: unknown quota id(s) ${unknown.map((k) => `"${k}"`).join(', ')}; known ids: ${[...known].join(', ')}`,
    ]);
  }
  return (id, dflt) => (platform.quotas[id] !== undefined ? [platform.quotas[id]!, 'cdk.json'] : [dflt, 'aws-default']);
}

/** The fleet's use of each quota, the crossings, the plans' headroom and the idle cost per tenant. */
export function assessCapacity(input: CapacityInput): { report: CapacityReport; crossed: QuotaUse[] } {
  const { tenants, platform } = input;
  const samples = Object.fromEntries(PLANS.map((p) => [p, planTenant(p)])) as Record<Plan, TenantConfig>;
  const models = [...new Set(tenants.flatMap(tenantModels))].sort();
  const limitOf = limitsFrom(platform, models);
  const cells = input.poolCells ?? configuredCells(platform);
  if (!Number.isInteger(cells) || cells < 0) throw new Error(`poolCells: ${cells} must be a whole number of cells`);
  const base = fixedUse(platform, cells);

  const quotas: QuotaUse[] = QUOTAS.map((spec) => {
    const perTenant = Object.fromEntries(PLANS.map((p) => [p, useOf(spec, samples[p])]));
    const [quota, limitFrom] = limitOf(spec.id, spec.defaultLimit);
    // Reservations may not cut into the executions Lambda keeps unreserved.
    const limit = spec.id === QUOTA_IDS.concurrency ? Math.max(0, quota - LAMBDA_UNRESERVED_MINIMUM) : quota;
    if (spec.id === QUOTA_IDS.resourcesPerStack) {
      // Pooled tenants have no stack. The largest template: a silo tenant's, a pool cell's, or the control plane's,
      // which holds one registration per silo tenant (the silo tenants past its room push it over).
      const silo = tenants.filter((t) => t.isolation === 'silo');
      const sizes = silo.map((t) => [t.id, tenantStackResources(t)] as const);
      const controlPlane = controlPlaneResources(silo.length);
      const used = Math.max(0, controlPlane, cells ? POOL_CELL_RESOURCES : 0, ...sizes.map(([, n]) => n));
      const over = sizes.filter(([, n]) => n > limit).map(([id]) => id);
      if (controlPlane > limit) over.push(...silo.slice(silo.length - (controlPlane - limit)).map((t) => t.id));
      return entry(spec, used, limit, limitFrom, perTenant, [...new Set(over)]);
    }
    let used = base[spec.id] ?? 0;
    const over: string[] = [];
    for (const t of tenants) {
      const n = useOf(spec, t);
      used += n;
      if (used > limit && n > 0) over.push(t.id);
    }
    return entry(spec, used, limit, limitFrom, perTenant, over);
  });
  for (const modelId of models) {
    const id = `${BEDROCK_TPM_PREFIX}${modelId}`;
    const m = getModel(modelId);
    const [limit, limitFrom] = limitOf(id, m.tokensPerMinute.quota);
    let used = 0;
    const over: string[] = [];
    for (const t of tenants) {
      const n = tenantTokensPerMinute(t, modelId);
      used += n;
      if (used > limit && n > 0) over.push(t.id);
    }
    quotas.push({
      id,
      name: `Cross-region tokens per minute for ${m.displayName}`,
      service: 'Bedrock',
      kind: 'runtime',
      used,
      limit,
      limitFrom,
      headroom: limit - used,
      crossed: used > limit,
      pushedOverBy: over,
      perTenant: Object.fromEntries(PLANS.map((p) => [p, tenantTokensPerMinute(samples[p], modelId)])),
      source: m.tokensPerMinute.source.note
        ? { ...BEDROCK_TPM_SOURCE, url: m.tokensPerMinute.source.url, note: m.tokensPerMinute.source.note }
        : BEDROCK_TPM_SOURCE,
      counting: `Tenants that may call the model, each at its usage-plan rate with 1,000 input tokens and its default maxTokens of output (x${m.tokensPerMinute.outputTokenBurndown} burndown): the peak, not the average.`,
    });
  }

  quotas.push(poolPlaces(tenants, cells, samples));

  const headroomByPlan: PlanHeadroom[] = PLANS.map((plan) => {
    let best: { n: number; id: string } | undefined;
    for (const q of quotas) {
      if (q.kind !== 'deploy' || q.id === QUOTA_IDS.resourcesPerStack) continue;
      const per = q.perTenant[plan] ?? 0;
      if (per <= 0) continue;
      const n = Math.max(0, Math.floor(q.headroom / per));
      if (!best || n < best.n) best = { n, id: q.id };
    }
    return { plan, moreTenants: best?.n ?? null, firstCeiling: best?.id ?? null };
  });

  const report: CapacityReport = {
    partial: input.partial,
    tenants: {
      total: tenants.length,
      byPlan: Object.fromEntries(PLANS.map((p) => [p, tenants.filter((t) => t.plan === p).length])),
    },
    quotas,
    headroomByPlan,
    idleCost: {
      currency: 'USD',
      priceSources: uniqueSources(),
      tenants: tenants.map((t) => {
        const items = idleCostOf(t);
        return {
          tenant: t.id,
          plan: t.plan,
          isolation: t.isolation,
          monthlyUsd: roundUsd(items.reduce((s, i) => s + i.usd, 0)),
          items,
        };
      }),
    },
    models: modelsReport(tenants, cells, limitOf, platform),
  };
  return { report, crossed: quotas.filter((q) => q.crossed && q.kind === 'deploy') };
}

/** Cents for the dollars of a silo tenant, but never a pooled tenant's fraction of a cent rounded to 0. */
function roundUsd(usd: number): number {
  return usd >= 0.01 ? Math.round(usd * 100) / 100 : Number(usd.toPrecision(2));
}

function useOf(spec: QuotaSpec, t: TenantConfig): number {
  return spec.id === QUOTA_IDS.resourcesPerStack ? tenantResourcesAdded(t) : (useOfTenant(t)[spec.id] ?? 0);
}

/** What the fleet uses before any tenant: the platform, the control plane, and `cells` pool cells. */
function fixedUse(platform: PlatformConfig, cells: number): Record<string, number> {
  const use: Record<string, number> = { ...platformUse(platform) };
  const add = (u: Record<string, number>, times: number) => {
    for (const [id, n] of Object.entries(u)) use[id] = (use[id] ?? 0) + n * times;
  };
  add(controlPlaneUse(), 1);
  add(poolCellUse(), cells);
  return use;
}

/** The places of the configured pool cells against the pooled tenant files (synth fails when they do not fit). */
function poolPlaces(tenants: readonly TenantConfig[], cells: number, samples: Record<Plan, TenantConfig>): QuotaUse {
  const pooled = tenants.filter((t) => t.isolation === 'pool');
  const limit = cells * TENANTS_PER_POOL_CELL;
  const needed = cellsFor(pooled.length);
  const next = Array.from({ length: Math.max(1, needed - cells) }, (_, i) => `"${poolCellId(cells + i + 1)}"`);
  return {
    id: POOL_PLACES_ID,
    name: 'Pooled tenants the pool cells hold (cells × tenants per cell)',
    service: 'Switchboard',
    kind: 'deploy',
    used: pooled.length,
    limit,
    limitFrom: 'cdk.json',
    headroom: limit - pooled.length,
    crossed: pooled.length > limit,
    pushedOverBy: pooled.slice(limit).map((t) => t.id),
    perTenant: Object.fromEntries(PLANS.map((p) => [p, samples[p].isolation === 'pool' ? 1 : 0])),
    source: {
      url: 'lib/capacity/pool.ts',
      readOn: BINDING_CELL_LIMIT.source.readOn,
      note: `${TENANTS_PER_POOL_CELL} tenants per cell, bound by ${BINDING_CELL_LIMIT.name} (${BINDING_CELL_LIMIT.source.url})`,
    },
    counting:
      'One place per pooled tenant file (isolation: pool, the basic plan’s default), none for a silo tenant. Tenants onboarded through the control plane take places at run time; it refuses one (503 pool_full) when every cell is full.',
    remedy: `add ${next.length === 1 ? 'a cell' : `${next.length} cells`} to cdk.json context.switchboard.poolCells: ${next.join(', ')} (${cellsFor(pooled.length)} cells of ${TENANTS_PER_POOL_CELL} hold ${fmt(pooled.length)} pooled tenants), then deploy ${next.length === 1 ? 'it' : 'them'}`,
  };
}

/** How many tenants like `t` can be at their full rate at once (see PoolCapacity.atFullRate). */
function atFullRate(t: TenantConfig, limitOf: LimitOf): PoolCapacity['atFullRate'] {
  const speed = getModel(t.models.byTier[t.models.default]!).speed;
  const seconds = (speed.firstTokenMs + (t.limits.defaultMaxTokens / speed.outputTokensPerSecond) * 1000) / 1000;
  const concurrencyPerTenant = t.throttle.rateLimit * seconds;
  const spec = (id: string) => QUOTAS.find((q) => q.id === id)!;
  const concurrency = limitOf(QUOTA_IDS.concurrency, spec(QUOTA_IDS.concurrency).defaultLimit)[0];
  const throttle = limitOf(QUOTA_IDS.accountThrottle, spec(QUOTA_IDS.accountThrottle).defaultLimit)[0];
  return {
    ratePerTenant: t.throttle.rateLimit,
    secondsPerRequest: Math.round(seconds * 100) / 100,
    concurrencyPerTenant: Math.round(concurrencyPerTenant * 100) / 100,
    // The pooled function is unreserved: it draws on what stays unreserved (at least the 100 Lambda keeps).
    tenantsByConcurrency: Math.floor(concurrency / concurrencyPerTenant),
    tenantsByApiThrottle: Math.floor(throttle / t.throttle.rateLimit),
  };
}

/** A sample tenant of `plan` forced to `isolation`. */
function sampleOf(plan: Plan, isolation: 'pool' | 'silo'): TenantConfig {
  return { ...planTenant(plan), isolation };
}

type LimitOf = (id: string, dflt: number) => [number, 'aws-default' | 'cdk.json'];

/**
 * How many units (tenants, cells) of `perUnit` use fit on top of `base`: per region with the defaults, at best
 * (only quotas AWS does not raise), per account (only account-wide quotas).
 */
function unitsFit(perUnit: Record<string, number>, base: Record<string, number>, limitOf: LimitOf): TenantsFit {
  const deploy = QUOTAS.filter((q) => q.kind === 'deploy' && q.id !== QUOTA_IDS.resourcesPerStack);
  const fitting = (specs: readonly QuotaSpec[], configured: boolean) => {
    let best = { n: Number.POSITIVE_INFINITY, id: 'none' };
    for (const spec of specs) {
      const per = perUnit[spec.id] ?? 0;
      if (per <= 0) continue;
      let limit = configured ? limitOf(spec.id, spec.defaultLimit)[0] : spec.defaultLimit;
      if (spec.id === QUOTA_IDS.concurrency) limit = Math.max(0, limit - LAMBDA_UNRESERVED_MINIMUM);
      const n = Math.max(0, Math.floor((limit - (base[spec.id] ?? 0)) / per));
      if (n < best.n) best = { n, id: spec.id };
    }
    return best;
  };
  const region = fitting(deploy, true);
  const atBest = fitting(
    deploy.filter((q) => !q.adjustable),
    false,
  );
  const account = fitting(
    deploy.filter((q) => ACCOUNT_WIDE_QUOTAS.has(q.id)),
    true,
  );
  return {
    perRegion: region.n,
    perRegionCeiling: region.id,
    perRegionAtBest: atBest.n,
    perRegionAtBestCeiling: atBest.id,
    perAccount: account.n,
    perAccountCeiling: account.id,
  };
}

/**
 * Silo tenants are also bound by the control plane's template, which holds a registration per silo tenant within
 * CloudFormation's 500 resources (not adjustable).
 */
function withControlPlaneTemplate(f: TenantsFit): TenantsFit {
  const spec = QUOTAS.find((q) => q.id === QUOTA_IDS.resourcesPerStack)!;
  const perSilo = controlPlaneResources(1) - controlPlaneResources(0);
  const room = Math.max(0, Math.floor((spec.defaultLimit - controlPlaneResources(0)) / perSilo));
  const cap = (n: number, id: string) => (room < n ? { n: room, id: spec.id } : { n, id });
  const region = cap(f.perRegion, f.perRegionCeiling);
  const best = cap(f.perRegionAtBest, f.perRegionAtBestCeiling);
  return {
    ...f,
    perRegion: region.n,
    perRegionCeiling: region.id,
    perRegionAtBest: best.n,
    perRegionAtBestCeiling: best.id,
  };
}

const scale = (f: TenantsFit, k: number): TenantsFit => ({
  ...f,
  perRegion: f.perRegion * k,
  perRegionAtBest: f.perRegionAtBest * k,
  perAccount: f.perAccount * k,
});

/** Silo and pooled capacity side by side, for a region holding the platform, the control plane and the cells. */
function modelsReport(
  tenants: readonly TenantConfig[],
  cells: number,
  limitOf: LimitOf,
  platform: PlatformConfig,
): ModelsReport {
  // The silo figures use the standard plan (the silo default), the pooled ones the basic plan (the pool default).
  const silo = sampleOf('standard', 'silo');
  const pooled = sampleOf('basic', 'pool');
  const noCellBase = fixedUse(platform, 0);
  const siloIdle = idleCost(silo);
  const poolIdle = pooledIdleCost(pooled);
  const sum = (items: readonly IdleCostItem[]) => items.reduce((n, i) => n + i.usd, 0);
  const cellItems = poolCellFixedCost();
  const cellsFit = unitsFit(poolCellUse(), noCellBase, limitOf);
  const count = (iso: 'pool' | 'silo') => tenants.filter((t) => t.isolation === iso).length;
  const siloModel: ModelCapacity = {
    model: 'silo',
    samplePlan: silo.plan,
    tenants: count('silo'),
    fit: withControlPlaneTemplate(unitsFit(tenantUse(silo), fixedUse(platform, cells), limitOf)),
    resourcesPerTenant: tenantStackResources(silo),
    apiKeysPerTenant: tenantUse(silo)[QUOTA_IDS.apiKeys] ?? 0,
    usagePlansPerTenant: tenantUse(silo)[QUOTA_IDS.usagePlans] ?? 0,
    idleMonthlyUsdPerTenant: sum(siloIdle),
    idleItems: siloIdle,
  };
  const pool: PoolCapacity = {
    model: 'pool',
    samplePlan: pooled.plan,
    tenants: count('pool'),
    fit: scale(cellsFit, TENANTS_PER_POOL_CELL),
    resourcesPerTenant: tenantResourcesAdded(pooled),
    apiKeysPerTenant: pooledTenantUse(pooled)[QUOTA_IDS.apiKeys] ?? 0,
    usagePlansPerTenant: pooledTenantUse(pooled)[QUOTA_IDS.usagePlans] ?? 0,
    idleMonthlyUsdPerTenant: sum(poolIdle),
    idleItems: poolIdle,
    tenantsPerCell: TENANTS_PER_POOL_CELL,
    cellLimits: POOL_CELL_LIMITS,
    bindingCellLimit: BINDING_CELL_LIMIT.id,
    cells,
    places: cells * TENANTS_PER_POOL_CELL,
    freePlaces: cells * TENANTS_PER_POOL_CELL - count('pool'),
    cellsFit,
    targetPerRegion: POOLED_TENANTS_TARGET_PER_REGION,
    cellsForTarget: cellsFor(POOLED_TENANTS_TARGET_PER_REGION),
    configuredCellsReachTarget: cells * TENANTS_PER_POOL_CELL >= POOLED_TENANTS_TARGET_PER_REGION,
    regionReachesTargetAtDefaults: cellsFit.perRegion >= cellsFor(POOLED_TENANTS_TARGET_PER_REGION),
    rateCeilingPerTenant: POOLED_TENANT_RATE_CEILING,
    atFullRate: atFullRate(pooled, limitOf),
    cellFixedMonthlyUsd: sum(cellItems),
    cellFixedItems: cellItems,
    fixedCostPerPlaceUsd: sum(cellItems) / TENANTS_PER_POOL_CELL,
  };
  return { silo: siloModel, pool, idleCostRatio: siloModel.idleMonthlyUsdPerTenant / pool.idleMonthlyUsdPerTenant };
}

function entry(
  spec: QuotaSpec,
  used: number,
  limit: number,
  limitFrom: 'aws-default' | 'cdk.json',
  perTenant: Record<string, number>,
  pushedOverBy: string[],
): QuotaUse {
  return {
    id: spec.id,
    name: spec.name,
    service: spec.service,
    kind: spec.kind,
    used,
    limit,
    limitFrom,
    headroom: limit - used,
    crossed: used > limit,
    pushedOverBy: used > limit ? pushedOverBy : [],
    perTenant,
    source: spec.source,
    counting: spec.counting,
  };
}

function uniqueSources() {
  const seen = new Map<string, { url: string; readOn: string; note?: string }>();
  for (const p of Object.values(PRICES)) if (!seen.has(p.source.url)) seen.set(p.source.url, p.source);
  return [...seen.values()];
}
