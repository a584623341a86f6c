/**
 * Defaults per plan (`basic`, `standard`, `premium`): everything in a tenant file except `id` and `tier`
 * falls back to these.
 */
import routerModel from '../../lambda/inference/core/routing/router-model.json';
import type { Tier } from '../../lambda/shared/catalog';

/**
 * Router and cascade thresholds recommended by `npm run train:router`, chosen on the training split only
 * (the cheapest setting that keeps 95% of always-deep quality). Every plan starts from them; a tenant file
 * may move them (`routing`, `escalation`) to trade cost for quality.
 */
export const RECOMMENDED_THRESHOLDS = {
  deepThreshold: routerModel.recommended.deepThreshold,
  balancedThreshold: routerModel.recommended.balancedThreshold,
  confidenceThreshold: routerModel.recommended.confidenceThreshold,
  /**
   * Not the trained value: the data set has no text of strong-model answers, so training cannot tell
   * which deep answers people should see. 0.4 sends only answers with hard evidence against them
   * (refused, cut off, filtered, empty, or two failed arithmetic checks) to review, not every answer
   * that hedges once or twice; a tenant with reviewers to spare can raise it.
   */
  reviewThreshold: Math.min(0.4, routerModel.recommended.confidenceThreshold),
} as const;

/** Share of the monthly budget from which `auto` requests go to the cheapest allowed tier. */
export const DEFAULT_NEAR_CAP_SHARE = 0.9;

const ROUTING_DEFAULTS = {
  deepThreshold: RECOMMENDED_THRESHOLDS.deepThreshold,
  balancedThreshold: RECOMMENDED_THRESHOLDS.balancedThreshold,
  nearCapShare: DEFAULT_NEAR_CAP_SHARE,
} as const;
const CASCADE_DEFAULTS = {
  confidenceThreshold: RECOMMENDED_THRESHOLDS.confidenceThreshold,
  reviewThreshold: RECOMMENDED_THRESHOLDS.reviewThreshold,
} as const;

/** Plans a tenant can be on. */
export const PLANS = ['basic', 'standard', 'premium'] as const;
export type Plan = (typeof PLANS)[number];

/** The fully-defaulted settings of a plan (the shape of a resolved tenant minus identity). */
export interface PlanDefaults {
  readonly models: { readonly allowed: readonly Tier[]; readonly default: Tier };
  readonly monthlyBudgetUsd: number;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly quota: { readonly limit: number; readonly period: 'DAY' | 'WEEK' | 'MONTH' };
  readonly routing: {
    readonly deepThreshold: number;
    readonly balancedThreshold: number;
    readonly nearCapShare: number;
  };
  readonly escalation: {
    readonly confidenceThreshold: number;
    readonly reviewThreshold: number;
    readonly reviewTimeoutMinutes: number;
    readonly reviewHeartbeatMinutes: number;
    readonly onTimeout: 'reject' | 'release_unreviewed';
  };
  readonly dataRetentionDays: number;
  readonly limits: {
    readonly maxPromptChars: number;
    readonly maxOutputTokens: number;
    readonly defaultMaxTokens: number;
  };
  readonly lambda: { readonly reservedConcurrency: number; readonly memoryMb: number; readonly timeoutSeconds: number };
}

export const PLAN_DEFAULTS: Readonly<Record<Plan, PlanDefaults>> = {
  basic: {
    models: { allowed: ['fast', 'balanced'], default: 'fast' },
    monthlyBudgetUsd: 50,
    throttle: { rateLimit: 5, burstLimit: 10 },
    quota: { limit: 50_000, period: 'MONTH' },
    routing: ROUTING_DEFAULTS,
    escalation: {
      ...CASCADE_DEFAULTS,
      reviewTimeoutMinutes: 2880,
      reviewHeartbeatMinutes: 1440,
      onTimeout: 'reject',
    },
    dataRetentionDays: 30,
    limits: { maxPromptChars: 20_000, maxOutputTokens: 1024, defaultMaxTokens: 512 },
    lambda: { reservedConcurrency: 5, memoryMb: 512, timeoutSeconds: 29 },
  },
  standard: {
    models: { allowed: ['fast', 'balanced', 'deep'], default: 'balanced' },
    monthlyBudgetUsd: 500,
    throttle: { rateLimit: 20, burstLimit: 40 },
    quota: { limit: 500_000, period: 'MONTH' },
    routing: ROUTING_DEFAULTS,
    escalation: {
      ...CASCADE_DEFAULTS,
      reviewTimeoutMinutes: 1440,
      reviewHeartbeatMinutes: 720,
      onTimeout: 'reject',
    },
    dataRetentionDays: 90,
    limits: { maxPromptChars: 100_000, maxOutputTokens: 4096, defaultMaxTokens: 1024 },
    lambda: { reservedConcurrency: 10, memoryMb: 1024, timeoutSeconds: 29 },
  },
  premium: {
    models: { allowed: ['fast', 'balanced', 'deep'], default: 'balanced' },
    monthlyBudgetUsd: 5000,
    throttle: { rateLimit: 100, burstLimit: 200 },
    quota: { limit: 5_000_000, period: 'MONTH' },
    routing: ROUTING_DEFAULTS,
    escalation: {
      ...CASCADE_DEFAULTS,
      reviewTimeoutMinutes: 480,
      reviewHeartbeatMinutes: 240,
      onTimeout: 'release_unreviewed',
    },
    dataRetentionDays: 365,
    limits: { maxPromptChars: 200_000, maxOutputTokens: 16_000, defaultMaxTokens: 2048 },
    lambda: { reservedConcurrency: 25, memoryMb: 1024, timeoutSeconds: 29 },
  },
};
