/**
 * The runtime projections of a tenant: what its handlers are handed at deploy time, built from the resolved
 * tenant (tenant-config.ts) and parsed again by the handlers with the schema in lambda/shared.
 */
import type { PooledReviewSettings, ReviewRuntimeConfig } from '../review-schema';
import type { TenantRuntimeConfig } from '../tenant-runtime';
import { billedPolicies } from './guardrail-policy';
import { REVIEW_EXECUTION_MARGIN_MINUTES } from './resolution-rules';
import type { TenantConfig } from './tenant-config';

/**
 * What the tenant's handlers receive (the `TENANT_CONFIG` environment variable). `platform`: the platform settings
 * every tenant's calls carry (its system preamble).
 */
export function toRuntimeConfig(
  t: TenantConfig,
  platform: { readonly systemPreamble?: string } = {},
): TenantRuntimeConfig {
  return {
    tenantId: t.id,
    plan: t.plan,
    defaultTier: t.models.default,
    tierModels: { ...t.models.byTier },
    tierFallbacks: Object.fromEntries(Object.entries(t.models.fallbacks).map(([k, v]) => [k, [...v]])),
    routing: { ...t.routing },
    escalation: {
      confidenceThreshold: t.escalation.confidenceThreshold,
      reviewThreshold: t.escalation.reviewThreshold,
      maxOpenReviews: t.escalation.maxOpenReviews,
      maxReviewsPerHour: t.escalation.maxReviewsPerHour,
      honourStatedConfidence: t.escalation.honourStatedConfidence,
    },
    guardrail: { source: t.guardrail.source, policies: billedPolicies(t.guardrail.policy) },
    preamble: {
      ...(platform.systemPreamble ? { platform: platform.systemPreamble } : {}),
      ...(t.systemPreamble ? { tenant: t.systemPreamble } : {}),
    },
    monthlyBudgetUsd: t.monthlyBudgetUsd,
    limits: { ...t.limits },
    dataRetentionDays: t.dataRetentionDays,
  };
}

/**
 * What the tenant's review functions receive (the `REVIEW_CONFIG` environment variable). The state machine's
 * timeout, `executionTimeoutSeconds`, is the review timeout plus {@link REVIEW_EXECUTION_MARGIN_MINUTES}.
 */
export function toReviewRuntimeConfig(t: TenantConfig): ReviewRuntimeConfig {
  const esc = t.escalation;
  return {
    tenantId: t.id,
    onTimeout: esc.onTimeout,
    ...(esc.webhook ? { webhookOrigin: esc.webhook.origin } : {}),
    dataRetentionDays: t.dataRetentionDays,
    executionTimeoutSeconds: (esc.reviewTimeoutMinutes + REVIEW_EXECUTION_MARGIN_MINUTES) * 60,
    maxOpenReviews: esc.maxOpenReviews,
  };
}

/** A pooled tenant's review settings (its registry item's `review`): the config and how long a review waits. */
export function toPooledReviewSettings(t: TenantConfig): PooledReviewSettings {
  return {
    config: toReviewRuntimeConfig(t),
    awaitSeconds: {
      timeout: t.escalation.reviewTimeoutMinutes * 60,
      heartbeat: t.escalation.reviewHeartbeatMinutes * 60,
    },
  };
}
