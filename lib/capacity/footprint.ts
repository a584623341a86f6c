/**
 * What one silo tenant and the platform stack use of each quota, and what an idle tenant costs, computed from
 * the configuration alone (before any construct is built). A test synthesizes the stacks and compares them
 * with these figures, so the model cannot drift from what the constructs create.
 */
import { newTenantItem, tenantView } from '../../lambda/control-plane/core/tenant-items';
import { getModel } from '../../lambda/shared/catalog';
import {
  type ApiKeyItem,
  type AuditItem,
  apiKeyKey,
  auditPk,
  newApiKey,
  tenantKey,
} from '../../lambda/shared/registry-schema';
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
const TENANT_BASE_RESOURCES = 100;
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
    [QUOTA_IDS.appClients]: 1,
    [QUOTA_IDS.userPoolGroups]: 1,
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

// ---------------------------------------------------------------------------------------------------------------
// Pooled tenants, pool cells and the control plane (issue 14).
//
// A pooled tenant (`isolation: pool`) has no stack: it is a few items in the control plane's registry and a place
// in a pool cell. A cell (`Switchboard-Pool-<n>`) and the control plane (`Switchboard-ControlPlane`) are stacks of
// their own, counted once each. Their figures below are what lib/stacks builds for them, compared with the
// synthesized stacks by test/lib/capacity/footprint-vs-template.test.ts (the silo figures: capacity.test.ts).
// ---------------------------------------------------------------------------------------------------------------

/**
 * A pool cell stack (`Switchboard-Pool-<n>`) as lib/stacks builds it (checked against its synthesized template by
 * test/lib/capacity/footprint-vs-template.test.ts): seven roles, each with its customer-managed policy (the pooled
 * inference function, the authorizer, the tenant-access role, the review steps and review API functions, the review
 * state machine, the pooled reviewers), the ledger key and the operations key, five topics (three functions' dead
 * letters, the cell's ops alarms, the reviewers), one review state machine, one housekeeping schedule every five
 * minutes with two targets (the review sweep, the ledger reconciliation), one ledger table, one REST API, nine alarms
 * and a dashboard.
 */
export const POOL_CELL = {
  roles: 7,
  topics: 5,
  keys: 2,
  stateMachines: 1,
  resources: 123,
  alarmMetrics: 9,
  dashboards: 1,
  /** The housekeeping schedule: every 5 minutes. */
  scheduleEveryMinutes: 5,
  /** Memory (MB) of the functions it invokes: the pooled inference function (reconciliation), the review steps (sweep). */
  scheduledFunctionMemoryMb: [1024, 512],
} as const;
/** Scheduled invocations of a cell a month (30 days): every target of its schedule. */
export const POOL_CELL_SCHEDULED_INVOCATIONS =
  ((30 * 24 * 60) / POOL_CELL.scheduleEveryMinutes) * POOL_CELL.scheduledFunctionMemoryMb.length;
/** Resources of a pool cell stack (CloudFormation's 500 per template). */
export const POOL_CELL_RESOURCES = POOL_CELL.resources;

/**
 * The control plane stack (`Switchboard-ControlPlane`) as lib/stacks builds it: its function's role and policy,
 * the registry's key, a topic, the registry table and the IAM-authorized REST API; plus one custom resource per
 * silo tenant (its registration), so the template grows with the silo fleet.
 */
export const CONTROL_PLANE = { roles: 1, topics: 1, keys: 1, baseResources: 43, resourcesPerSiloTenant: 1 } as const;

/** What one pool cell stack uses of each quota (quota id → use). */
export function poolCellUse(): Record<string, number> {
  return {
    [QUOTA_IDS.restApis]: 1,
    [QUOTA_IDS.roles]: POOL_CELL.roles,
    [QUOTA_IDS.policies]: POOL_CELL.roles,
    [QUOTA_IDS.rules]: 1,
    [QUOTA_IDS.stacks]: 1,
    [QUOTA_IDS.stateMachines]: POOL_CELL.stateMachines,
    [QUOTA_IDS.appClients]: 1,
    [QUOTA_IDS.topics]: POOL_CELL.topics,
    [QUOTA_IDS.keys]: POOL_CELL.keys,
    [QUOTA_IDS.tables]: 1,
  };
}

/** What the control plane stack uses: its IAM-authorized API, its function and role, the registry and its key. */
export function controlPlaneUse(): Record<string, number> {
  return {
    [QUOTA_IDS.restApis]: 1,
    [QUOTA_IDS.roles]: CONTROL_PLANE.roles,
    [QUOTA_IDS.policies]: CONTROL_PLANE.roles,
    [QUOTA_IDS.stacks]: 1,
    [QUOTA_IDS.topics]: CONTROL_PLANE.topics,
    [QUOTA_IDS.keys]: CONTROL_PLANE.keys,
    [QUOTA_IDS.tables]: 1,
  };
}

/** Resources of the control plane template with `siloTenants` silo tenant files (one registration each). */
export function controlPlaneResources(siloTenants: number): number {
  return CONTROL_PLANE.baseResources + CONTROL_PLANE.resourcesPerSiloTenant * siloTenants;
}

/**
 * What one pooled tenant uses of each quota: no stack, no REST API, no API key or usage plan, no role, no key.
 * Only its rate, which its cell's REST API sends on against the account's throttle (runtime).
 */
export function pooledTenantUse(t: TenantConfig): Record<string, number> {
  return {
    [QUOTA_IDS.accountThrottle]: t.throttle.rateLimit,
    // Its reviewer group, created by the control plane while its reviews go to people.
    [QUOTA_IDS.userPoolGroups]: t.escalation.reviewThreshold > 0 ? 1 : 0,
  };
}

/** What a tenant of either model uses of each quota. */
export function useOfTenant(t: TenantConfig): Record<string, number> {
  return t.isolation === 'pool' ? pooledTenantUse(t) : tenantUse(t);
}

/** CloudFormation resources a tenant adds to the app: its stack's for a silo tenant, none for a pooled one. */
export function tenantResourcesAdded(t: TenantConfig): number {
  return t.isolation === 'pool' ? 0 : tenantStackResources(t);
}

/** Storage overhead DynamoDB bills per item (and per index item), bytes (prices.ts, dynamodbStorage). */
const DYNAMODB_ITEM_OVERHEAD_BYTES = 100;
const BYTES_PER_GB = 1024 ** 3;
const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * The size DynamoDB counts for a value (CapacityUnitCalculations.html): strings by UTF-8 bytes, numbers one byte per
 * two significant digits plus one, booleans and null one byte, lists and maps 3 bytes plus one per element plus
 * their elements (and a map's keys).
 */
function valueBytes(v: unknown): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return utf8(v);
  if (typeof v === 'number') {
    const digits = String(Math.abs(v)).replace('.', '').replace(/e.*$/i, '').replace(/^0+/, '').replace(/0+$/, '');
    return Math.ceil(Math.max(1, digits.length) / 2) + 1;
  }
  if (Array.isArray(v)) return 3 + v.reduce((n: number, x) => n + 1 + valueBytes(x), 0);
  if (typeof v === 'object') {
    return (
      3 +
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .reduce((n, [k, x]) => n + 1 + utf8(k) + valueBytes(x), 0)
    );
  }
  return utf8(String(v));
}

/** An item's size as DynamoDB counts it (attribute names and values), without the per-item overhead. */
export function dynamoItemBytes(item: Record<string, unknown>): number {
  return Object.entries(item)
    .filter(([, v]) => v !== undefined)
    .reduce((n, [k, v]) => n + utf8(k) + valueBytes(v), 0);
}

/** The registry items one pooled tenant keeps while idle, with their billed sizes (bytes, overhead included). */
export interface RegistryFootprint {
  readonly items: readonly { readonly item: string; readonly bytes: number; readonly inIndex: boolean }[];
  /** Table bytes (point-in-time recovery is billed on these). */
  readonly tableBytes: number;
  /** Table and index bytes (storage is billed on these). */
  readonly storedBytes: number;
}

/** Options of {@link pooledRegistryFootprint}. */
export interface RegistryFootprintOptions {
  /**
   * The tenant document as the control plane stores it.
   * @default - the tenant's id, plan and isolation (a document with more fields stores more; the resolved runtime
   * config stored beside it is the bulk either way)
   */
  readonly document?: Record<string, unknown>;
  /**
   * The caller's principal ARN recorded in the audit entry.
   * @default - a role ARN of 44 characters
   */
  readonly who?: string;
  /**
   * The cell the tenant is placed in.
   * @default 'pool-1'
   */
  readonly cell?: string;
}

/** The registry items of a pooled tenant just onboarded: its tenant item, its key item, the audit entry of its creation. */
export function pooledRegistryFootprint(t: TenantConfig, opts: RegistryFootprintOptions = {}): RegistryFootprint {
  const at = new Date(Date.UTC(2026, 0, 1)).toISOString();
  const document = opts.document ?? { id: t.id, plan: t.plan, isolation: t.isolation };
  const tenant = newTenantItem(t, document, opts.cell ?? 'pool-1', newApiKey(), at);
  const key: ApiKeyItem = { keyHash: tenant.keyHash, tenantId: t.id, status: 'active', createdAt: at, updatedAt: at };
  const audit: AuditItem = {
    tenantId: t.id,
    action: 'create',
    who: opts.who ?? 'arn:aws:iam::111111111111:role/PlatformTeam',
    at,
    after: tenantView(tenant),
  };
  const sized = (item: string, keys: Record<string, string>, body: object, inIndex: boolean) => ({
    item,
    bytes: dynamoItemBytes({ ...keys, ...body }) + DYNAMODB_ITEM_OVERHEAD_BYTES,
    inIndex,
  });
  const items = [
    // The tenant item is also in the `byKind` index (every attribute projected: the list reads whole items).
    sized('tenant item', tenantKey(t.id), tenant, true),
    sized('API key item', apiKeyKey(tenant.keyHash), key, false),
    // The audit sort key: the time and 6 random bytes in hex (lambda/control-plane/adapters/dynamo-registry.ts).
    sized('audit entry (creation)', { pk: auditPk(t.id), sk: `${at}#${'0'.repeat(12)}` }, audit, false),
  ];
  const tableBytes = items.reduce((n, i) => n + i.bytes, 0);
  return {
    items,
    tableBytes,
    storedBytes: tableBytes + items.filter((i) => i.inIndex).reduce((n, i) => n + i.bytes, 0),
  };
}

/**
 * The fixed monthly cost of a pooled tenant that sends no requests: its registry items (storage and continuous
 * backup). Nothing else is its own: no stack, key, alarm, dashboard or schedule; its metrics are published only
 * while it sends requests (an idle tenant publishes none). The cell's fixed costs are the cell's
 * ({@link poolCellFixedCost}), shown per place separately.
 */
export function pooledIdleCost(t: TenantConfig): IdleCostItem[] {
  const f = pooledRegistryFootprint(t);
  const item = (name: string, quantity: number, unitUsd: number): IdleCostItem => ({
    item: name,
    quantity,
    unitUsd,
    usd: quantity * unitUsd,
  });
  return [
    item(
      `Registry storage (${f.items.map((i) => `${i.item} ${i.bytes} B`).join(', ')}; the tenant item again in the byKind index), GB`,
      f.storedBytes / BYTES_PER_GB,
      PRICES.dynamodbStorage.usd,
    ),
    item(
      'Registry continuous backup (point-in-time recovery), GB',
      f.tableBytes / BYTES_PER_GB,
      PRICES.dynamodbPitr.usd,
    ),
    ...(t.escalation.webhook
      ? [item('Secrets Manager secret (webhook URL and signing key)', 1, PRICES.secret.usd)]
      : []),
  ];
}

/** The fixed monthly cost of a tenant of either model that sends no requests. */
export function idleCostOf(t: TenantConfig): IdleCostItem[] {
  return t.isolation === 'pool' ? pooledIdleCost(t) : idleCost(t);
}

/**
 * The fixed monthly cost of one pool cell with no traffic: its keys, its alarms and dashboard, its housekeeping
 * schedule. Divided by the cell's capacity it is the fixed cost per place.
 */
export function poolCellFixedCost(): IdleCostItem[] {
  const item = (name: string, quantity: number, unitUsd: number): IdleCostItem => ({
    item: name,
    quantity,
    unitUsd,
    usd: Math.round(quantity * unitUsd * 10_000) / 10_000,
  });
  const runsPerTarget = POOL_CELL_SCHEDULED_INVOCATIONS / POOL_CELL.scheduledFunctionMemoryMb.length;
  const gbSeconds = POOL_CELL.scheduledFunctionMemoryMb.reduce(
    (n, mb) => n + runsPerTarget * HOUSEKEEPING_SECONDS * (mb / 1024),
    0,
  );
  return [
    item('KMS keys (first year; rotations add up to $2 each)', POOL_CELL.keys, PRICES.kmsKey.usd),
    item('CloudWatch alarm metrics', POOL_CELL.alarmMetrics, PRICES.alarmMetric.usd),
    item('CloudWatch dashboard (the cell)', POOL_CELL.dashboards, PRICES.dashboard.usd),
    item(
      `Housekeeping Lambda requests (every ${POOL_CELL.scheduleEveryMinutes} minutes: review sweep, reconciliation)`,
      POOL_CELL_SCHEDULED_INVOCATIONS,
      PRICES.lambdaRequest.usd,
    ),
    item(
      `Housekeeping Lambda GB-seconds (${HOUSEKEEPING_SECONDS * 1000} ms a run, arm64)`,
      gbSeconds,
      PRICES.lambdaArmGbSecond.usd,
    ),
  ].filter((i) => i.quantity > 0);
}
