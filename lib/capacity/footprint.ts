/**
 * What one silo tenant and the platform stack use of each quota, and what an idle tenant costs, computed from
 * the configuration alone (before any construct is built). A test synthesizes the stacks and compares them
 * with these figures, so the model cannot drift from what the constructs create.
 */
import { getModel } from '../../lambda/shared/catalog';
import { PLANS } from '../../lambda/shared/tenant-vocabulary';
import type { AlarmSet } from '../config/plan-defaults';
import type { PlatformConfig } from '../config/platform-config';
import type { TenantConfig } from '../config/tenant-config';
import { PRICES } from './prices';
import { QUOTA_IDS } from './quotas';
import type { IdleCostItem } from './types';

/** Roles of a tenant stack: inference, review steps, review decisions, review workflow, reviewer. */
const TENANT_ROLES = 5;
/** Dead-letter topics (one per function) and the reviewers' topic. */
const TENANT_BASE_TOPICS = 3 + 1;
/** Resources of a tenant stack besides its monitoring, its e-mail subscriptions and a guardrail of its own. */
const TENANT_BASE_RESOURCES = 81;
/** A tenant's own guardrail: the guardrail and its published version. */
const TENANT_GUARDRAIL_RESOURCES = 2;
/** Guardrails of the platform stack: one per plan. */
const PLAN_GUARDRAIL_COUNT = PLANS.length;
/** KMS keys of the platform stack: the platform key and the guardrail key. */
const PLATFORM_KEYS = 2;
/** A webhook's resources: its secret (URL and signing key) and the secret's resource policy. */
const WEBHOOK_RESOURCES = 2;

/** Alarms of each alarm set, and the metrics they are billed for (a metric-math alarm per metric). */
export const ALARM_SET_SIZE: Readonly<Record<AlarmSet, { alarms: number; alarmMetrics: number; composite: number }>> = {
  full: { alarms: 26, alarmMetrics: 28, composite: 1 },
  essential: { alarms: 7, alarmMetrics: 7, composite: 0 },
};

/** Custom metrics an idle tenant still publishes: the review queue depth and oldest age, every 5 minutes. */
const IDLE_CUSTOM_METRICS = 2;
/** Housekeeping: one EventBridge rule every 5 minutes with two targets (review sweep, ledger reconciliation). */
const HOUSEKEEPING_INVOCATIONS_PER_MONTH = 2 * 12 * 24 * 30;
/** Assumed duration of an idle housekeeping run (a few DynamoDB queries). */
const HOUSEKEEPING_SECONDS = 0.2;
/** Memory of the review steps function (MB). */
const REVIEW_STEPS_MEMORY_MB = 512;
/** Roles `cdk bootstrap` creates in the account and region. */
export const CDK_BOOTSTRAP_ROLES = 5;
/** Input tokens assumed per request when estimating a model's tokens per minute at the tenants' throttles. */
const ASSUMED_INPUT_TOKENS = 1_000;

/** Resources of a tenant's stack (CloudFormation's 500 per template). */
export function tenantStackResources(t: TenantConfig): number {
  const set = ALARM_SET_SIZE[t.monitoring.alarms];
  const opsTopic = t.opsEmails.length ? 2 + t.opsEmails.length : 0;
  return (
    TENANT_BASE_RESOURCES +
    set.alarms +
    set.composite +
    (t.monitoring.dashboard ? 1 : 0) +
    t.escalation.reviewerEmails.length +
    opsTopic +
    (t.guardrail.source === 'tenant' ? TENANT_GUARDRAIL_RESOURCES : 0) +
    (t.escalation.webhook ? WEBHOOK_RESOURCES : 0)
  );
}

/** What one silo tenant uses of each quota (quota id → use). */
export function tenantUse(t: TenantConfig): Record<string, number> {
  return {
    [QUOTA_IDS.restApis]: 1,
    [QUOTA_IDS.usagePlans]: 1,
    [QUOTA_IDS.apiKeys]: 1,
    [QUOTA_IDS.clientCertificates]: 0,
    [QUOTA_IDS.accountThrottle]: t.throttle.rateLimit,
    [QUOTA_IDS.concurrency]: t.lambda.reservedConcurrency,
    [QUOTA_IDS.roles]: TENANT_ROLES,
    [QUOTA_IDS.policies]: TENANT_ROLES,
    [QUOTA_IDS.rules]: 1,
    [QUOTA_IDS.stacks]: 1,
    [QUOTA_IDS.searchSeries]: 1,
    [QUOTA_IDS.topics]: TENANT_BASE_TOPICS + (t.opsEmails.length ? 1 : 0),
    [QUOTA_IDS.keys]: 1,
    [QUOTA_IDS.stateMachines]: 1,
    [QUOTA_IDS.tables]: 1,
    [QUOTA_IDS.webAcls]: 0,
    [QUOTA_IDS.backupSelections]: 0,
    [QUOTA_IDS.guardrails]: t.guardrail.source === 'tenant' ? 1 : 0,
  };
}

/** What the platform stack uses of each quota. */
export function platformUse(p: PlatformConfig): Record<string, number> {
  const apiGatewayRole = p.apiGatewayAccountRole === 'manage' ? 1 : 0;
  return {
    // The CDK bootstrap stack's roles (deploy, CloudFormation execution, file and image publishing, lookup).
    [QUOTA_IDS.roles]: CDK_BOOTSTRAP_ROLES + 1 + apiGatewayRole,
    // The shared tracing and state machine log-delivery policies.
    [QUOTA_IDS.policies]: 2 + apiGatewayRole,
    [QUOTA_IDS.stacks]: 1,
    [QUOTA_IDS.topics]: 1,
    [QUOTA_IDS.keys]: PLATFORM_KEYS,
    [QUOTA_IDS.webAcls]: 1,
    [QUOTA_IDS.backupSelections]: 1,
    [QUOTA_IDS.guardrails]: PLAN_GUARDRAIL_COUNT,
  };
}

/** Models a tenant may call: tier models and fallbacks. */
export function tenantModels(t: TenantConfig): string[] {
  return [...new Set([...Object.values(t.models.byTier), ...Object.values(t.models.fallbacks).flat()])] as string[];
}

/**
 * Tokens per minute a tenant may send to `modelId` at its throttle, every request at its default `maxTokens`
 * (output tokens weighted by the model's burndown) and {@link ASSUMED_INPUT_TOKENS} input tokens.
 */
export function tenantTokensPerMinute(t: TenantConfig, modelId: string): number {
  if (!tenantModels(t).includes(modelId)) return 0;
  const burndown = getModel(modelId).tokensPerMinute.outputTokenBurndown;
  return Math.round(t.throttle.rateLimit * 60 * (ASSUMED_INPUT_TOKENS + t.limits.defaultMaxTokens * burndown));
}

/** The fixed monthly cost of a tenant that sends no requests. */
export function idleCost(t: TenantConfig): IdleCostItem[] {
  const set = ALARM_SET_SIZE[t.monitoring.alarms];
  const item = (item: string, quantity: number, unitUsd: number): IdleCostItem => ({
    item,
    quantity,
    unitUsd,
    usd: Math.round(quantity * unitUsd * 10_000) / 10_000,
  });
  const gbSeconds =
    (HOUSEKEEPING_INVOCATIONS_PER_MONTH / 2) *
    HOUSEKEEPING_SECONDS *
    ((REVIEW_STEPS_MEMORY_MB + t.lambda.memoryMb) / 1024);
  return [
    item('KMS key (first year; rotations add up to $2)', 1, PRICES.kmsKey.usd),
    item('CloudWatch alarm metrics', set.alarmMetrics, PRICES.alarmMetric.usd),
    item('CloudWatch composite alarm', set.composite, PRICES.compositeAlarm.usd),
    item('CloudWatch dashboard', t.monitoring.dashboard ? 1 : 0, PRICES.dashboard.usd),
    item('Secrets Manager secret (webhook URL and signing key)', t.escalation.webhook ? 1 : 0, PRICES.secret.usd),
    item('Custom metrics published while idle (review queue)', IDLE_CUSTOM_METRICS, PRICES.customMetric.usd),
    item(
      'Housekeeping Lambda requests (every 5 minutes, 2 targets)',
      HOUSEKEEPING_INVOCATIONS_PER_MONTH,
      PRICES.lambdaRequest.usd,
    ),
    item(
      `Housekeeping Lambda GB-seconds (${HOUSEKEEPING_SECONDS * 1000} ms a run, arm64)`,
      gbSeconds,
      PRICES.lambdaArmGbSecond.usd,
    ),
  ].filter((i) => i.quantity > 0);
}
