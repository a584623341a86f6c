/**
 * A tenant as the constructs see it: its file with the plan defaults applied ({@link applyPlanDefaults}), once the
 * rules across fields (resolution-rules.ts) found nothing wrong ({@link resolveTenant}).
 */
import { DEFAULT_TIER_FALLBACKS, DEFAULT_TIER_MODELS, TIERS, type Tier } from '../catalog';
import type { Plan, QuotaPeriod, RoutingMode, TimeoutPolicy } from '../tenant-vocabulary';
import { checkWebhookUrl } from '../webhook-url';
import { type GuardrailPolicyConfig, type PiiEntityType, PLAN_GUARDRAILS, samePolicy } from './guardrail-policy';
import {
  type AlarmDefaults,
  defaultReviewSlaMinutes,
  type Isolation,
  type MonitoringDefaults,
  type OffboardingDataPolicy,
  PLAN_DEFAULTS,
  type SeverityThresholds,
} from './plan-defaults';
import { RESOLUTION_RULES } from './resolution-rules';
import type { TenantFile } from './tenant-schema';

/** A tenant with every default applied. */
export interface TenantConfig {
  readonly id: string;
  readonly displayName: string;
  readonly plan: Plan;
  /** `pool`: served by a pool cell; `silo`: a stack of its own. */
  readonly isolation: Isolation;
  readonly models: {
    readonly allowed: readonly Tier[];
    readonly default: Tier;
    readonly byTier: Partial<Record<Tier, string>>;
    readonly fallbacks: Partial<Record<Tier, readonly string[]>>;
  };
  readonly routing: {
    readonly mode: RoutingMode;
    readonly deepThreshold: number;
    readonly balancedThreshold: number;
    readonly nearCapShare: number;
  };
  readonly monthlyBudgetUsd: number;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly quota: { readonly limit: number; readonly period: QuotaPeriod };
  readonly escalation: {
    readonly confidenceThreshold: number;
    readonly reviewThreshold: number;
    readonly reviewerEmails: readonly string[];
    /** IAM role or user ARNs that may assume the reviewer role; empty: principals tagged for the tenant. */
    readonly reviewerPrincipals: readonly string[];
    readonly reviewTimeoutMinutes: number;
    readonly reviewHeartbeatMinutes: number;
    /** Declared origin of the webhook (normalized `https://host[:port]`); the full URL is in the webhook secret. */
    readonly webhook?: { readonly origin: string };
    readonly onTimeout: TimeoutPolicy;
    /** Whether a "Confidence: x" line in an answer counts toward its score. */
    readonly honourStatedConfidence: boolean;
    readonly maxOpenReviews: number;
    readonly maxReviewsPerHour: number;
  };
  /**
   * The tenant's guardrail: its plan's shared one (`plan`), or one of its own (`tenant`) when its file customizes
   * it into something the plan's is not.
   */
  readonly guardrail: { readonly source: 'plan' | 'tenant'; readonly policy: GuardrailPolicyConfig };
  /** The tenant's system preamble (after the platform's, before the caller's system text). */
  readonly systemPreamble?: string;
  readonly dataRetentionDays: number;
  /** What offboarding does with the tenant's pooled records (`retain` until their TTL, or `delete` at once). */
  readonly offboarding: { readonly data: OffboardingDataPolicy };
  readonly limits: {
    readonly maxPromptChars: number;
    readonly maxOutputTokens: number;
    readonly defaultMaxTokens: number;
  };
  /** `reservedConcurrency` 0: unreserved. */
  readonly lambda: { readonly reservedConcurrency: number; readonly memoryMb: number; readonly timeoutSeconds: number };
  readonly tags: Readonly<Record<string, string>>;
  /** The tenant's own ops contacts; empty: the platform's ops contacts receive its alarms. */
  readonly opsEmails: readonly string[];
  readonly monitoring: MonitoringDefaults;
  /** Alarm thresholds by severity (plan defaults applied; the review SLA follows the review timeout). */
  readonly alarms: AlarmDefaults & { readonly reviewSlaMinutes: SeverityThresholds };
}

/** One problem in a tenant file: where and what. */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Applies the plan defaults and checks the rules that span fields (every rule of {@link RESOLUTION_RULES}, in
 * order). Returns the tenant or the problems.
 */
export function resolveTenant(file: TenantFile): { tenant?: TenantConfig; problems: FieldProblem[] } {
  const tenant = applyPlanDefaults(file);
  const problems = RESOLUTION_RULES.flatMap((rule) => rule(file, tenant));
  return problems.length ? { problems } : { problems, tenant };
}

/**
 * The file's values over its plan's defaults, not yet checked across fields (a value the rules refuse may be in
 * it). A declared webhook origin is normalized, and left out when it is not one.
 */
export function applyPlanDefaults(file: TenantFile): TenantConfig {
  const d = PLAN_DEFAULTS[file.plan];
  const allowed = TIERS.filter((t) => (file.models?.allowed ?? d.models.allowed).includes(t));
  const defaultTier = file.models?.default ?? (allowed.includes(d.models.default) ? d.models.default : allowed[0]!);
  const byTier: Partial<Record<Tier, string>> = {};
  const fallbacks: Partial<Record<Tier, readonly string[]>> = {};
  for (const t of allowed) {
    byTier[t] = file.models?.overrides?.[t] ?? DEFAULT_TIER_MODELS[t];
    // A tier's own model is never its own fallback.
    fallbacks[t] = (file.models?.fallbacks?.[t] ?? DEFAULT_TIER_FALLBACKS[t]).filter((m) => m !== byTier[t]);
  }
  const timeout = file.escalation?.reviewTimeoutMinutes ?? d.escalation.reviewTimeoutMinutes;
  const { webhookUrl: _legacy, webhook: webhookFile, ...fileEscalation } = file.escalation ?? {};
  const checked = webhookFile ? checkWebhookUrl(webhookFile.origin, 'origin') : undefined;
  const webhook = checked?.ok ? { origin: checked.origin } : undefined;
  const isolation = file.isolation ?? d.isolation;
  const escalation = {
    ...d.escalation,
    // A pooled tenant's human review is opt-in (its file sets a threshold and reviewers): its reviewers need an
    // identity set up first (README: reviewing a pooled tenant), or every review would just expire.
    ...(isolation === 'pool' ? { reviewThreshold: 0 } : {}),
    reviewHeartbeatMinutes: Math.min(d.escalation.reviewHeartbeatMinutes, Math.max(1, Math.floor(timeout / 2))),
    reviewerEmails: [] as string[],
    reviewerPrincipals: [] as string[],
    honourStatedConfidence: false,
    ...fileEscalation,
    ...(webhook ? { webhook } : {}),
  };
  return {
    id: file.id,
    displayName: file.displayName ?? file.id,
    plan: file.plan,
    isolation,
    models: { allowed, default: defaultTier, byTier, fallbacks },
    routing: { mode: 'learned' as const, ...d.routing, ...file.routing },
    monthlyBudgetUsd: file.monthlyBudgetUsd ?? d.monthlyBudgetUsd,
    throttle: { ...d.throttle, ...file.throttle },
    quota: { ...d.quota, ...file.quota },
    escalation,
    guardrail: planGuardrailWith(file),
    ...(file.systemPreamble !== undefined ? { systemPreamble: file.systemPreamble } : {}),
    dataRetentionDays: file.dataRetentionDays ?? d.dataRetentionDays,
    offboarding: { data: file.offboarding?.data ?? 'retain' },
    limits: { ...d.limits, ...file.limits },
    lambda: { ...d.lambda, ...file.lambda },
    tags: file.tags ?? {},
    opsEmails: file.opsEmails ?? [],
    monitoring: { ...d.monitoring, ...file.monitoring },
    alarms: alarmsWith(file, d.alarms, escalation.reviewTimeoutMinutes),
  };
}

/**
 * The tenant's guardrail: the plan's, or the plan's with the file's changes. Only the strength of the harmful-content
 * filters may go either way; topics and PII types are added to the plan's, and the credentials every guardrail
 * blocks stay blocked. A file whose changes amount to the plan's guardrail shares it (no guardrail of its own).
 */
function planGuardrailWith(file: TenantFile): TenantConfig['guardrail'] {
  const plan = PLAN_GUARDRAILS[file.plan];
  const g = file.guardrail;
  if (g === undefined) return { source: 'plan', policy: plan };
  const block = [...new Set(g.pii?.block ?? [])];
  const blocked = new Set<PiiEntityType>([...plan.pii.block, ...block]);
  const anonymized = [...new Set([...plan.pii.anonymize, ...(g.pii?.anonymize ?? [])])].filter((t) => !blocked.has(t));
  const policy: GuardrailPolicyConfig = {
    harmfulContentStrength: g.harmfulContentStrength ?? plan.harmfulContentStrength,
    promptAttackStrength: plan.promptAttackStrength,
    deniedTopics: [
      ...plan.deniedTopics,
      ...(g.deniedTopics ?? []).map((t) => ({ name: t.name, definition: t.definition, examples: t.examples ?? [] })),
    ],
    pii: { block: [...blocked], anonymize: anonymized },
  };
  return samePolicy(policy, plan) ? { source: 'plan', policy: plan } : { source: 'tenant', policy };
}

/**
 * The tenant's alarm thresholds: the file's values over the plan defaults; the review SLA defaults to shares
 * of the review timeout.
 */
function alarmsWith(file: TenantFile, defaults: AlarmDefaults, reviewTimeoutMinutes: number): TenantConfig['alarms'] {
  const all = { ...defaults, reviewSlaMinutes: defaultReviewSlaMinutes(reviewTimeoutMinutes) };
  const out = {} as Record<keyof TenantConfig['alarms'], SeverityThresholds>;
  for (const key of Object.keys(all) as Array<keyof TenantConfig['alarms']>)
    out[key] = { ...all[key], ...file.alarms?.[key] };
  return out;
}
