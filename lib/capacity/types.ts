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
  readonly monthlyUsd: number;
  readonly items: readonly IdleCostItem[];
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
  readonly idleCost: {
    readonly currency: 'USD';
    readonly priceSources: readonly Source[];
    readonly tenants: readonly TenantIdleCost[];
  };
}
