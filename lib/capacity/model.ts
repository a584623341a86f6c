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
  idleCost,
  platformUse,
  tenantModels,
  tenantStackResources,
  tenantTokensPerMinute,
  tenantUse,
} from './footprint';
import { PRICES } from './prices';
import {
  BEDROCK_TPM_PREFIX,
  BEDROCK_TPM_SOURCE,
  knownQuotaIds,
  LAMBDA_UNRESERVED_MINIMUM,
  QUOTA_IDS,
  QUOTAS,
  type QuotaSpec,
} from './quotas';
import type { CapacityReport, PlanHeadroom, QuotaUse } from './types';

/** Thrown when the fleet would cross deploy-time quotas (printed without a stack trace). */
export class CapacityError extends Error {
  constructor(readonly crossed: readonly QuotaUse[]) {
    super(
      `The fleet would cross ${crossed.length} AWS quota${crossed.length === 1 ? '' : 's'} (raise ${crossed.length === 1 ? 'it' : 'them'} in Service Quotas, then set the raised value in cdk.json under context.switchboard.quotas):\n  - ${crossed.map(describeCrossing).join('\n  - ')}`,
    );
    this.name = 'CapacityError';
  }
}

function describeCrossing(q: QuotaUse): string {
  const shown = q.pushedOverBy.slice(0, 10);
  const more = q.pushedOverBy.length > shown.length ? ` and ${q.pushedOverBy.length - shown.length} more` : '';
  const who = shown.length ? `; pushed over by ${shown.join(', ')}${more}` : '';
  return `${q.service} "${q.name}" (${q.id}): ${fmt(q.used)} needed, limit ${fmt(q.limit)} (${q.limitFrom === 'cdk.json' ? 'raised in cdk.json' : 'AWS default'})${who}`;
}
const fmt = (n: number) => n.toLocaleString('en-US');

/** Options of {@link assessCapacity}. */
export interface CapacityInput {
  readonly tenants: readonly TenantConfig[];
  readonly platform: PlatformConfig;
  /** Only some tenant files were read (`-c tenant=<id>`). */
  readonly partial: boolean;
}

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
  const base = platformUse(platform);

  const quotas: QuotaUse[] = QUOTAS.map((spec) => {
    const perTenant = Object.fromEntries(PLANS.map((p) => [p, useOf(spec, samples[p])]));
    const [quota, limitFrom] = limitOf(spec.id, spec.defaultLimit);
    // Reservations may not cut into the executions Lambda keeps unreserved.
    const limit = spec.id === QUOTA_IDS.concurrency ? Math.max(0, quota - LAMBDA_UNRESERVED_MINIMUM) : quota;
    if (spec.id === QUOTA_IDS.resourcesPerStack) {
      const sizes = tenants.map((t) => [t.id, tenantStackResources(t)] as const);
      const used = Math.max(0, ...sizes.map(([, n]) => n));
      return entry(
        spec,
        used,
        limit,
        limitFrom,
        perTenant,
        sizes.filter(([, n]) => n > limit).map(([id]) => id),
      );
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
        const items = idleCost(t);
        return {
          tenant: t.id,
          plan: t.plan,
          monthlyUsd: Math.round(items.reduce((s, i) => s + i.usd, 0) * 100) / 100,
          items,
        };
      }),
    },
  };
  return { report, crossed: quotas.filter((q) => q.crossed && QUOTAS.find((s) => s.id === q.id)?.kind === 'deploy') };
}

function useOf(spec: QuotaSpec, t: TenantConfig): number {
  return spec.id === QUOTA_IDS.resourcesPerStack ? tenantStackResources(t) : (tenantUse(t)[spec.id] ?? 0);
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
