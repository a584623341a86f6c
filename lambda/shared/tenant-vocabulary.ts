/**
 * The words of a tenant's configuration, each written once: the tenant file schema and plan defaults (lib/config),
 * the constructs and the handlers' runtime config all import them from here. (The model tiers, `fast`,
 * `balanced` and `deep`, are the catalog's: `TIERS` in catalog.ts.)
 */

/** Plans a tenant can be on; the plan sets the defaults of every other field of its file. */
export const PLANS = ['basic', 'standard', 'premium'] as const;
export type Plan = (typeof PLANS)[number];

/** Periods of a tenant's API usage-plan quota (API Gateway's `Period`). */
export const QUOTA_PERIODS = ['DAY', 'WEEK', 'MONTH'] as const;
export type QuotaPeriod = (typeof QUOTA_PERIODS)[number];

/**
 * What happens to an answer nobody reviewed in time: `reject` it, or `release_unreviewed` (the model's answer goes
 * out without a person's approval).
 */
export const TIMEOUT_POLICIES = ['reject', 'release_unreviewed'] as const;
export type TimeoutPolicy = (typeof TIMEOUT_POLICIES)[number];

/** How tier `auto` is chosen: `learned` (by the router), `default-tier` (always the tenant's default tier). */
export const ROUTING_MODES = ['learned', 'default-tier'] as const;
export type RoutingMode = (typeof ROUTING_MODES)[number];

/** Tenant ids: lowercase letters, digits and dashes, 3–32 characters, not starting or ending with a dash. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$/;
/** What {@link TENANT_ID_PATTERN} asks, as problems say it. */
export const TENANT_ID_RULE = 'must be 3–32 characters of a-z, 0-9 and "-", not starting or ending with "-"';
