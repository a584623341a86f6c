/**
 * Defaults per plan (`PLANS` in lambda/shared/tenant-vocabulary.ts): everything in a tenant file except `id` and `plan`
 * falls back to these.
 */

import type { Tier } from '../catalog';
import routerModel from '../routing/router-model.json';
import type { Plan, QuotaPeriod, TimeoutPolicy } from '../tenant-vocabulary';

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

/** An alarm threshold per severity: the alarm fires when the value is at or above it. */
export interface SeverityThresholds {
  readonly warning: number;
  readonly critical: number;
}

/**
 * Alarm thresholds of a tenant (the tenant file's `alarms` block), each keyed by severity. The review SLA is
 * not a plan default: unless the file sets it, it follows the tenant's review timeout
 * ({@link REVIEW_SLA_SHARE_OF_TIMEOUT}).
 */
export interface AlarmDefaults {
  /** 5xx answers as a share of API requests, in percent (5-minute periods, 2 of 3 breaching). */
  readonly errorRate5xxPercent: SeverityThresholds;
  /** API p99 latency in milliseconds (3 consecutive 5-minute periods). */
  readonly p99LatencyMs: SeverityThresholds;
  /** Month spend / monthly budget (BudgetUsedShare): 0.8 = 80 %. */
  readonly budgetShare: SeverityThresholds;
  /** Fallback calls per 100 requests, sustained over 15 minutes. */
  readonly fallbackRatePercent: SeverityThresholds;
  /** Inference function errors (crashes, timeouts) per 5 minutes. */
  readonly lambdaErrors: SeverityThresholds;
  /** Lambda throttles, and DynamoDB throttled read or write events, per 5 minutes. */
  readonly throttles: SeverityThresholds;
  /** Review state machine executions failed or timed out per 5 minutes. */
  readonly stateMachineFailures: SeverityThresholds;
}

/** Default review SLA alarms as shares of the review timeout (oldest pending review age). */
export const REVIEW_SLA_SHARE_OF_TIMEOUT: SeverityThresholds = { warning: 0.5, critical: 0.8 };

/** The review SLA of a tenant file that sets none: {@link REVIEW_SLA_SHARE_OF_TIMEOUT} of its review timeout, at least a minute. */
export function defaultReviewSlaMinutes(reviewTimeoutMinutes: number): SeverityThresholds {
  return {
    warning: Math.max(1, Math.round(reviewTimeoutMinutes * REVIEW_SLA_SHARE_OF_TIMEOUT.warning)),
    critical: Math.max(1, Math.round(reviewTimeoutMinutes * REVIEW_SLA_SHARE_OF_TIMEOUT.critical)),
  };
}

const BUDGET_ALARMS: SeverityThresholds = { warning: 0.8, critical: 1.0 };

/**
 * Alarm sets of a tenant: `full` (warning and critical of every alarm, a composite "unhealthy"), `essential`
 * (critical only, of what a person must act on; see TenantMonitoring).
 */
export const ALARM_SETS = ['full', 'essential'] as const;
export type AlarmSet = (typeof ALARM_SETS)[number];

/** What a tenant's monitoring costs while idle is mostly its dashboard and alarms: chosen per plan. */
export interface MonitoringDefaults {
  /** A dashboard of the tenant's own ($3 a month); every tenant is on the fleet dashboard regardless. */
  readonly dashboard: boolean;
  readonly alarms: AlarmSet;
}

/**
 * How a tenant is deployed: `pool` (no stack of its own; served by a pool cell, onboarded through the control
 * plane) or `silo` (a stack of its own, from its file, by a deploy).
 */
export const ISOLATION_MODES = ['pool', 'silo'] as const;
export type Isolation = (typeof ISOLATION_MODES)[number];

/**
 * What offboarding does with a pooled tenant's records: `retain` (the default: they stay until their TTL,
 * `dataRetentionDays`, removes them) or `delete` (the control plane purges them when the tenant is offboarded).
 */
export const OFFBOARDING_DATA_POLICIES = ['retain', 'delete'] as const;
export type OffboardingDataPolicy = (typeof OFFBOARDING_DATA_POLICIES)[number];

/** The fully-defaulted settings of a plan (the shape of a resolved tenant minus identity). */
export interface PlanDefaults {
  /** Basic tenants share a pool cell unless their file says otherwise; the larger plans get a stack of their own. */
  readonly isolation: Isolation;
  readonly models: { readonly allowed: readonly Tier[]; readonly default: Tier };
  readonly monthlyBudgetUsd: number;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly quota: { readonly limit: number; readonly period: QuotaPeriod };
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
    readonly onTimeout: TimeoutPolicy;
    /**
     * Reviews that may wait for a decision at once, and that may start per UTC hour: what one API key can put
     * in front of the tenant's reviewers. An answer that needs review beyond either is answered 429
     * (`review_queue_full`, `review_rate_exceeded`), charged and not released.
     */
    readonly maxOpenReviews: number;
    readonly maxReviewsPerHour: number;
  };
  readonly dataRetentionDays: number;
  readonly limits: {
    readonly maxPromptChars: number;
    readonly maxOutputTokens: number;
    readonly defaultMaxTokens: number;
  };
  /**
   * `reservedConcurrency` 0: unreserved. Only premium reserves: a guaranteed share for the plan that pays for
   * it, while every reservation counts against the account's concurrency quota (capacity model).
   */
  readonly lambda: { readonly reservedConcurrency: number; readonly memoryMb: number; readonly timeoutSeconds: number };
  readonly alarms: AlarmDefaults;
  readonly monitoring: MonitoringDefaults;
}

export const PLAN_DEFAULTS: Readonly<Record<Plan, PlanDefaults>> = {
  basic: {
    isolation: 'pool',
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
      maxOpenReviews: 20,
      maxReviewsPerHour: 10,
    },
    dataRetentionDays: 30,
    limits: { maxPromptChars: 20_000, maxOutputTokens: 800, defaultMaxTokens: 512 },
    lambda: { reservedConcurrency: 0, memoryMb: 512, timeoutSeconds: 29 },
    alarms: {
      errorRate5xxPercent: { warning: 5, critical: 10 },
      p99LatencyMs: { warning: 20_000, critical: 27_000 },
      budgetShare: BUDGET_ALARMS,
      fallbackRatePercent: { warning: 20, critical: 40 },
      lambdaErrors: { warning: 1, critical: 10 },
      throttles: { warning: 5, critical: 50 },
      stateMachineFailures: { warning: 1, critical: 5 },
    },
    monitoring: { dashboard: false, alarms: 'essential' },
  },
  standard: {
    isolation: 'silo',
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
      maxOpenReviews: 100,
      maxReviewsPerHour: 50,
    },
    dataRetentionDays: 90,
    limits: { maxPromptChars: 100_000, maxOutputTokens: 750, defaultMaxTokens: 512 },
    lambda: { reservedConcurrency: 0, memoryMb: 1024, timeoutSeconds: 29 },
    alarms: {
      errorRate5xxPercent: { warning: 2, critical: 5 },
      p99LatencyMs: { warning: 15_000, critical: 25_000 },
      budgetShare: BUDGET_ALARMS,
      fallbackRatePercent: { warning: 10, critical: 25 },
      lambdaErrors: { warning: 1, critical: 5 },
      throttles: { warning: 1, critical: 20 },
      stateMachineFailures: { warning: 1, critical: 3 },
    },
    monitoring: { dashboard: true, alarms: 'full' },
  },
  premium: {
    isolation: 'silo',
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
      maxOpenReviews: 500,
      maxReviewsPerHour: 200,
    },
    dataRetentionDays: 365,
    limits: { maxPromptChars: 200_000, maxOutputTokens: 750, defaultMaxTokens: 750 },
    lambda: { reservedConcurrency: 25, memoryMb: 1024, timeoutSeconds: 29 },
    alarms: {
      errorRate5xxPercent: { warning: 1, critical: 2 },
      p99LatencyMs: { warning: 10_000, critical: 20_000 },
      budgetShare: BUDGET_ALARMS,
      fallbackRatePercent: { warning: 5, critical: 15 },
      lambdaErrors: { warning: 1, critical: 3 },
      throttles: { warning: 1, critical: 10 },
      stateMachineFailures: { warning: 1, critical: 2 },
    },
    monitoring: { dashboard: true, alarms: 'full' },
  },
};
