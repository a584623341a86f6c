/**
 * What the capacity model reports: the fleet's use of every AWS quota it consumes against the limit, how many
 * more tenants of each plan fit, and the fixed monthly cost of an idle tenant. The compliance report renders
 * it (Markdown, HTML, JSON); synth fails on a crossed deploy-time quota before any stack is built.
 */

/** A source a figure was read from: a documentation or pricing page and the day it was read. */
export interface Source {
  readonly url: string;
  readonly readOn: string;
  /** How the figure was read or derived, when not verbatim. */
  readonly note?: string;
}

/**
 * `deploy`: crossing it makes a deploy fail (synth fails). `runtime`: crossing it throttles requests at peak
 * (reported with its headroom; synth does not fail).
 */
export type QuotaKind = 'deploy' | 'runtime';

/** One quota: the fleet's use against its limit. */
export interface QuotaUse {
  /** Stable id, e.g. `apigateway.regionalRestApis`. */
  readonly id: string;
  /** As AWS names it, e.g. "Regional APIs per account per Region". */
  readonly name: string;
  readonly service: string;
  readonly kind: QuotaKind;
  readonly used: number;
  readonly limit: number;
  /** Whether the limit is the AWS default or a value raised in `cdk.json`. */
  readonly limitFrom: 'aws-default' | 'cdk.json';
  /** `limit - used` (negative when crossed). */
  readonly headroom: number;
  readonly crossed: boolean;
  /** Tenants whose use takes the fleet over the limit (the last ones counted), empty when not crossed. */
  readonly pushedOverBy: readonly string[];
  /** What one tenant of each plan uses (absent: plan not in use by this quota's model). */
  readonly perTenant: Readonly<Record<string, number>>;
  readonly source: Source;
  /** How the use is counted, in one sentence. */
  readonly counting: string;
  /**
   * What to do when it is crossed, when that is not "raise it in Service Quotas" (e.g. the pool cells' places:
   * add a cell to `poolCells`).
   */
  readonly remedy?: string;
}

/** How many more tenants of one plan fit before the first deploy-time ceiling. */
export interface PlanHeadroom {
  readonly plan: string;
  /** `null`: no deploy-time quota bounds this plan. */
  readonly moreTenants: number | null;
  /** The quota id that stops it first. */
  readonly firstCeiling: string | null;
}

/** One line of an idle tenant's monthly bill. */
export interface IdleCostItem {
  readonly item: string;
  readonly quantity: number;
  readonly unitUsd: number;
  readonly usd: number;
}

/** The fixed monthly cost of one tenant that sends no requests. */
export interface TenantIdleCost {
  readonly tenant: string;
  readonly plan: string;
  /** `pool`: registry items only; `silo`: its stack's fixed costs. Absent in reports written before pooling. */
  readonly isolation?: 'pool' | 'silo';
  readonly monthlyUsd: number;
  readonly items: readonly IdleCostItem[];
}

/** How many tenants of one model fit: with the AWS defaults, and at best (only quotas AWS does not raise bind). */
export interface TenantsFit {
  /** Tenants per region with the defaults (and the raised values of cdk.json). */
  readonly perRegion: number;
  /** The quota that stops them first. */
  readonly perRegionCeiling: string;
  /** Tenants per region when every adjustable quota is raised: only quotas AWS does not raise bind. */
  readonly perRegionAtBest: number;
  readonly perRegionAtBestCeiling: string;
  /**
   * Tenants per account, all regions together: bound only by the account-wide quotas (IAM roles and policies;
   * the regional ones repeat per region).
   */
  readonly perAccount: number;
  readonly perAccountCeiling: string;
}

/** The capacity of one tenancy model, with what one of its tenants costs and adds. */
export interface ModelCapacity {
  readonly model: 'silo' | 'pool';
  /** The plan whose defaults the per-tenant figures use. */
  readonly samplePlan: string;
  /** Tenants of this model in the fleet. */
  readonly tenants: number;
  readonly fit: TenantsFit;
  /** CloudFormation resources one tenant adds to the app. */
  readonly resourcesPerTenant: number;
  /** API Gateway API keys and usage plans one tenant uses (10,000 keys per region, not adjustable). */
  readonly apiKeysPerTenant: number;
  readonly usagePlansPerTenant: number;
  /** The fixed monthly cost of one idle tenant of the sample plan (USD). */
  readonly idleMonthlyUsdPerTenant: number;
  readonly idleItems: readonly IdleCostItem[];
}

/** A limit on how many tenants one pool cell holds. */
export interface CellLimitReport {
  readonly id: string;
  readonly name: string;
  readonly tenants: number;
  readonly source: Source;
  readonly why: string;
}

/** The pooled model's cells: how many tenants each holds and why, what they hold, what a cell costs idle. */
export interface PoolCapacity extends ModelCapacity {
  readonly model: 'pool';
  readonly tenantsPerCell: number;
  readonly cellLimits: readonly CellLimitReport[];
  /** Id of the limit that binds (the smallest). */
  readonly bindingCellLimit: string;
  /** Cells configured (`cdk.json` poolCells). */
  readonly cells: number;
  /** Places in the configured cells (`cells × tenantsPerCell`) and how many are free of pooled tenant files. */
  readonly places: number;
  readonly freePlaces: number;
  /** Cells a region takes (defaults, at best) and per account, as {@link TenantsFit} counts tenants. */
  readonly cellsFit: TenantsFit;
  /** Pooled tenants per region the platform aims for, and the cells that hold them. */
  readonly targetPerRegion: number;
  readonly cellsForTarget: number;
  /** Whether the configured cells hold the target, and whether the region's quotas (defaults) take its cells. */
  readonly configuredCellsReachTarget: boolean;
  readonly regionReachesTargetAtDefaults: boolean;
  /** Highest rate limit (requests per second) of a pooled tenant. */
  readonly rateCeilingPerTenant: number;
  /**
   * Noisy neighbours at run time: how many tenants of the sample plan can be at their full rate at once, every
   * request a full-length answer of the plan's default tier, before the account's Lambda concurrency (of an account
   * that reserves none of it) or the account's API Gateway throttle (shared by every API of the region) stops them. Pooled tenants
   * are oversubscribed by design; each keeps its own rate, so one at ten times its rate is refused, not the others.
   */
  readonly atFullRate: {
    readonly ratePerTenant: number;
    readonly secondsPerRequest: number;
    readonly concurrencyPerTenant: number;
    readonly tenantsByConcurrency: number;
    readonly tenantsByApiThrottle: number;
  };
  /** Fixed monthly cost of one idle cell, its items, and that cost divided by the cell's places. */
  readonly cellFixedMonthlyUsd: number;
  readonly cellFixedItems: readonly IdleCostItem[];
  readonly fixedCostPerPlaceUsd: number;
}

/** Both models side by side. */
export interface ModelsReport {
  readonly silo: ModelCapacity;
  readonly pool: PoolCapacity;
  /** Idle cost of a silo tenant divided by that of a pooled one (how many pooled tenants idle for one silo). */
  readonly idleCostRatio: number;
}

/** The capacity section of the compliance report. */
export interface CapacityReport {
  /**
   * True when some tenant files could not be counted (a single-tenant synth counts every file of the folder that
   * parses, and skips the others): the use may be below the fleet's.
   */
  readonly partial: boolean;
  readonly tenants: { readonly total: number; readonly byPlan: Readonly<Record<string, number>> };
  readonly quotas: readonly QuotaUse[];
  readonly headroomByPlan: readonly PlanHeadroom[];
  /** Tenants per region and account, resources and idle cost per tenant, for the silo and the pooled model. */
  readonly models?: ModelsReport;
  readonly idleCost: {
    readonly currency: 'USD';
    readonly priceSources: readonly Source[];
    readonly tenants: readonly TenantIdleCost[];
  };
}
