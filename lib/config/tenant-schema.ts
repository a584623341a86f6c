/**
 * The tenant file schema (`tenants/<id>.yaml`). Only `id` and `tier` are required (and, by a rule across
 * fields, a reviewer e-mail while human review is on); everything else defaults from the plan (tier-defaults.ts). The JSON Schema editors use (`tenant.schema.json`) is
 * generated from this schema by `npm run schema:tenant`.
 */
import { z } from 'zod';
import { API_LIMITS } from '../../lambda/shared/api-schema';
import {
  DEFAULT_TIER_FALLBACKS,
  DEFAULT_TIER_MODELS,
  isKnownModel,
  MODELS,
  TIERS,
  type Tier,
} from '../../lambda/shared/catalog';
import { REVIEW_CAP_LIMITS } from '../../lambda/shared/review-schema';
import { PREAMBLE_MAX_CHARS, type TenantRuntimeConfig } from '../../lambda/shared/tenant-runtime';
import { checkWebhookUrl, shownOrigin, WEBHOOK_ORIGIN_MAX_CHARS } from '../../lambda/shared/webhook-url';
import {
  ALWAYS_BLOCKED_PII,
  billedPolicies,
  GUARDRAIL_STRENGTHS,
  type GuardrailPolicyConfig,
  PII_ENTITY_TYPES,
  type PiiEntityType,
  PLAN_GUARDRAILS,
  samePolicy,
  TOPIC_LIMITS,
  TOPIC_NAME_PATTERN,
} from './guardrail-policy';
import {
  MAX_TENANT_TAGS,
  RESERVED_KEY_PREFIX_PATTERN,
  RESERVED_VALUE_PREFIX_PATTERN,
  TAG_KEY_MAX_CHARS,
  TAG_PATTERN,
  TAG_VALUE_MAX_CHARS,
  tagCountProblem,
  tagKeyProblems,
  tagValueProblems,
} from './tags';
import {
  ALARM_SETS,
  type AlarmDefaults,
  defaultReviewSlaMinutes,
  type MonitoringDefaults,
  PLAN_DEFAULTS,
  PLANS,
  type Plan,
  type SeverityThresholds,
} from './tier-defaults';

const TierEnum = z.enum(TIERS);
const knownModels = Object.keys(MODELS);

/** Tenant ids: lowercase letters, digits and dashes, 3–32 characters, not starting or ending with a dash. */
/** How long the review state machine may run past the review timeout (its own timeout's margin). */
export const REVIEW_EXECUTION_MARGIN_MINUTES = 30;

export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$/;

/** `{ warning, critical }` alarm thresholds between `min` and `max`; either may be left to the plan default. */
function severity(min: number, max: number) {
  return z
    .strictObject({
      warning: z.number().min(min).max(max).optional().describe('Threshold of the Warning alarm'),
      critical: z.number().min(min).max(max).optional().describe('Threshold of the Critical alarm'),
    })
    .optional();
}

/** A tag key a tenant may set (AWS's rules, no reserved prefix); checked in code points, as AWS counts. */
const TagKeySchema = z
  .string()
  .superRefine((key, ctx) => {
    for (const message of tagKeyProblems(key)) ctx.addIssue({ code: 'custom', input: key, message });
  })
  .meta({
    minLength: 1,
    maxLength: TAG_KEY_MAX_CHARS,
    pattern: TAG_PATTERN.source,
    not: { pattern: RESERVED_KEY_PREFIX_PATTERN },
  });

/** A tag value (AWS's rules; may be empty). */
const TagValueSchema = z
  .string()
  .superRefine((value, ctx) => {
    for (const message of tagValueProblems(value)) ctx.addIssue({ code: 'custom', input: value, message });
  })
  .meta({
    maxLength: TAG_VALUE_MAX_CHARS,
    pattern: TAG_PATTERN.source,
    not: { pattern: RESERVED_VALUE_PREFIX_PATTERN },
  });

/**
 * An IAM role or user ARN (path allowed, no wildcards): who may assume a tenant's reviewer role. Linear: every
 * path segment ends at a `/` its characters exclude.
 */
export const IAM_PRINCIPAL_ARN_PATTERN =
  /^arn:aws(?:-[a-z]+){0,3}:iam::(\d{12}):(role|user)\/(?:[\w+=,.@-]+\/){0,64}[\w+=,.@-]{1,128}$/;

/** Each reviewer principal once, all of one account (the tenant's stack trusts its own account only). */
function rejectForeignOrRepeatedPrincipals(arns: readonly string[], ctx: z.RefinementCtx): void {
  const first = new Map<string, number>();
  const account = IAM_PRINCIPAL_ARN_PATTERN.exec(arns[0] ?? '')?.[1];
  arns.forEach((arn, i) => {
    const j = first.get(arn);
    if (j !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [i],
        input: arn,
        message: `already listed as escalation.reviewerPrincipals.${j}; list each principal once`,
      });
      return;
    }
    first.set(arn, i);
    const own = IAM_PRINCIPAL_ARN_PATTERN.exec(arn)?.[1];
    if (account && own && own !== account) {
      ctx.addIssue({
        code: 'custom',
        path: [i],
        input: arn,
        message: `names account ${own}, but escalation.reviewerPrincipals.0 names ${account}; every reviewer principal must be in the account the tenant is deployed to`,
      });
    }
  });
}

/**
 * Each reviewer once: SNS subscribes an address once per topic (a second subscription is a construct id
 * collision at synth), and mailboxes do not differ by case, so `A@x.com` and `a@x.com` are the same reviewer.
 */
function rejectDuplicateEmails(emails: readonly string[], ctx: z.RefinementCtx): void {
  const first = new Map<string, number>();
  emails.forEach((email, i) => {
    const key = email.toLowerCase();
    const j = first.get(key);
    if (j === undefined) {
      first.set(key, i);
      return;
    }
    ctx.addIssue({
      code: 'custom',
      path: [i],
      input: email,
      message: `already listed as escalation.reviewerEmails.${j} (${JSON.stringify(emails[j])}); e-mail addresses are compared ignoring case, list each reviewer once`,
    });
  });
}

/** What a tenant file may contain. */
export const TenantFileSchema = z.strictObject({
  id: z.string().regex(TENANT_ID_PATTERN, {
    message: 'must be 3–32 characters of a-z, 0-9 and "-", not starting or ending with "-"',
  }),
  displayName: z.string().min(1).max(64).optional().describe('Human name; defaults to the id'),
  tier: z.enum(PLANS).describe('Plan: sets the defaults of every other field'),
  models: z
    .strictObject({
      allowed: z.array(TierEnum).min(1).optional().describe('Tiers this tenant may use'),
      default: TierEnum.optional().describe('Tier used when a request does not name one'),
      overrides: z
        .partialRecord(
          TierEnum,
          z.string().refine(isKnownModel, { message: `unknown model; known models: ${knownModels.join(', ')}` }),
        )
        .optional()
        .describe('Model or inference profile backing a tier, instead of the catalog default'),
      fallbacks: z
        .partialRecord(
          TierEnum,
          z
            .array(
              z.string().refine(isKnownModel, { message: `unknown model; known models: ${knownModels.join(', ')}` }),
            )
            .max(3),
        )
        .optional()
        .describe("Models tried in order when a tier's model is throttled, down or too slow ([] for none)"),
    })
    .optional(),
  routing: z
    .strictObject({
      mode: z
        .enum(['learned', 'default-tier'])
        .optional()
        .describe('"learned": tier "auto" is chosen by the router; "default-tier": always models.default'),
      deepThreshold: z
        .number()
        .min(0)
        .max(1)
        .optional()
        .describe(
          'Router score from which a request goes to the strongest allowed tier (lower = more quality, more cost)',
        ),
      balancedThreshold: z
        .number()
        .min(0)
        .max(1)
        .optional()
        .describe('Router score from which a request goes to balanced (at most deepThreshold)'),
      nearCapShare: z
        .number()
        .min(0)
        .max(1)
        .optional()
        .describe('Share of the monthly budget from which auto requests use the cheapest allowed tier'),
    })
    .optional(),
  monthlyBudgetUsd: z.number().min(0).max(10_000_000).optional(),
  throttle: z
    .strictObject({
      rateLimit: z.number().positive().max(10_000).optional().describe('Steady requests per second'),
      burstLimit: z.number().int().positive().max(5_000).optional().describe('Burst capacity in requests'),
    })
    .optional(),
  quota: z
    .strictObject({
      limit: z.number().int().positive().optional(),
      period: z.enum(['DAY', 'WEEK', 'MONTH']).optional(),
    })
    .optional(),
  escalation: z
    .strictObject({
      confidenceThreshold: z
        .number()
        .min(0)
        .max(1)
        .optional()
        .describe('Answers scored below this are re-asked on the next stronger allowed tier'),
      reviewThreshold: z
        .number()
        .min(0)
        .max(1)
        .optional()
        .describe('Answers of the strongest tier scored below this go to human review (at most confidenceThreshold)'),
      reviewerEmails: z
        .array(z.email())
        .max(20)
        .superRefine(rejectDuplicateEmails)
        .optional()
        .describe('Addresses told about every answer waiting for review (each once)'),
      reviewerPrincipals: z
        .array(
          z.string().max(2048).regex(IAM_PRINCIPAL_ARN_PATTERN, {
            message:
              'must be the ARN of an IAM role or user of the account the tenant is deployed to, such as arn:aws:iam::111122223333:role/AcmeReviewers (a path is allowed, wildcards are not)',
          }),
        )
        .max(20)
        .superRefine(rejectForeignOrRepeatedPrincipals)
        .optional()
        .describe(
          'IAM roles or users that may assume the reviewer role (with a source identity that becomes the session name); default: principals of the account tagged switchboard:reviewer=<tenant id>',
        ),
      reviewTimeoutMinutes: z
        .number()
        .int()
        .min(5)
        .max(10_080)
        .optional()
        .describe('How long a review may wait for a decision before the timeout policy applies'),
      reviewHeartbeatMinutes: z
        .number()
        .int()
        .min(1)
        .max(10_079)
        .optional()
        .describe('A review nobody has opened within this time expires early (below reviewTimeoutMinutes)'),
      webhook: z
        .strictObject({
          origin: z
            .string()
            .max(WEBHOOK_ORIGIN_MAX_CHARS)
            .meta({ pattern: '^https://[a-z0-9.-]+(:(443|8443))?/?$' })
            .describe(
              'https://host[:port] of the webhook, nothing more: the full URL, which often carries a secret, is set after deploying with npm run webhook:set (README, "Webhooks")',
            ),
        })
        .optional()
        .describe('Told (POST, JSON, signed) the outcome of every review'),
      webhookUrl: z.string().optional().meta({
        not: {},
        deprecated: true,
        description:
          'No longer accepted: declare escalation.webhook.origin and set the full URL with npm run webhook:set',
      }),
      onTimeout: z.enum(['reject', 'release_unreviewed']).optional(),
      honourStatedConfidence: z
        .boolean()
        .optional()
        .describe(
          'Let a "Confidence: x" line in an answer count toward its score (default false: whoever writes the prompt can make the model write any such line)',
        ),
      maxOpenReviews: z
        .number()
        .int()
        .min(1)
        .max(REVIEW_CAP_LIMITS.maxOpenReviews)
        .optional()
        .describe(
          'Reviews that may wait for a decision at once; an answer that needs review beyond it is refused (429 review_queue_full), charged and not released',
        ),
      maxReviewsPerHour: z
        .number()
        .int()
        .min(1)
        .max(REVIEW_CAP_LIMITS.maxReviewsPerHour)
        .optional()
        .describe('Reviews that may start in one UTC hour; beyond it, 429 review_rate_exceeded'),
    })
    .optional(),
  guardrail: z
    .strictObject({
      harmfulContentStrength: z
        .enum(GUARDRAIL_STRENGTHS)
        .optional()
        .describe("Strength of the hate, insults, sexual, violence and misconduct filters (default: the plan's)"),
      deniedTopics: z
        .array(
          z.strictObject({
            name: z
              .string()
              .min(1)
              .max(TOPIC_LIMITS.name)
              .regex(TOPIC_NAME_PATTERN, { message: 'must use only letters, digits, spaces and - _ ! ? .' }),
            definition: z
              .string()
              .min(1)
              .max(TOPIC_LIMITS.definition)
              .describe('What the topic is, in one or two sentences'),
            examples: z
              .array(z.string().min(1).max(TOPIC_LIMITS.example))
              .max(TOPIC_LIMITS.examples)
              .optional()
              .describe('Prompts that belong to the topic'),
          }),
        )
        .min(1)
        .max(TOPIC_LIMITS.topics)
        .optional()
        .describe('Subjects this API must not discuss: blocked in prompts and answers'),
      pii: z
        .strictObject({
          block: z
            .array(z.enum(PII_ENTITY_TYPES))
            .optional()
            .describe('PII types blocked in prompts and answers, besides the credentials every guardrail blocks'),
          anonymize: z
            .array(z.enum(PII_ENTITY_TYPES))
            .optional()
            .describe("PII types masked in answers, besides the plan's contact data and identifiers"),
        })
        .optional(),
    })
    .optional()
    .describe(
      "A guardrail of the tenant's own (counted against the account's guardrail quota); without it the tenant shares its plan's",
    ),
  systemPreamble: z
    .string()
    .min(1)
    .max(PREAMBLE_MAX_CHARS)
    .optional()
    .describe(
      "System text put before every request's own system text (after the platform's); callers cannot remove it",
    ),
  dataRetentionDays: z.number().int().min(1).max(3650).optional(),
  limits: z
    .strictObject({
      maxPromptChars: z.number().int().positive().max(API_LIMITS.maxPromptChars).optional(),
      maxOutputTokens: z.number().int().positive().max(API_LIMITS.maxOutputTokens).optional(),
      defaultMaxTokens: z.number().int().positive().max(API_LIMITS.maxOutputTokens).optional(),
    })
    .optional(),
  lambda: z
    .strictObject({
      reservedConcurrency: z
        .number()
        .int()
        .min(0)
        .max(1000)
        .optional()
        .describe(
          "Concurrency reserved for the inference function (0: unreserved). Taken from the account's quota, so the capacity model counts it",
        ),
      memoryMb: z.number().int().min(128).max(10_240).optional(),
      timeoutSeconds: z
        .number()
        .int()
        .min(5)
        .max(900)
        .optional()
        .describe(
          "Function timeout; at most the account's API Gateway integration timeout (29 s unless raised, see cdk.json quotas)",
        ),
    })
    .optional(),
  tags: z
    .record(TagKeySchema, TagValueSchema)
    .superRefine((tags, ctx) => {
      const n = Object.keys(tags).length;
      const message = tagCountProblem(n);
      if (message) ctx.addIssue({ code: 'custom', input: tags, message, params: { given: `${n} tags` } });
    })
    .meta({
      maxProperties: MAX_TENANT_TAGS,
      description: `Tags on every resource of the tenant (at most ${MAX_TENANT_TAGS}; no aws: or switchboard: prefix)`,
    })
    .optional(),
  monitoring: z
    .strictObject({
      dashboard: z.boolean().optional().describe("A dashboard of the tenant's own ($3 a month; default: plan)"),
      alarms: z
        .enum(ALARM_SETS)
        .optional()
        .describe(
          '"full": warning and critical of every alarm; "essential": critical only, of what a person must act on',
        ),
    })
    .optional(),
  opsEmails: z
    .array(z.email())
    .max(10)
    .optional()
    .describe(
      "The tenant's operations contacts, told of every alarm of the tenant (default: the platform's ops contacts)",
    ),
  alarms: z
    .strictObject({
      errorRate5xxPercent: severity(0, 100).describe('5xx answers as a share of API requests, in percent'),
      p99LatencyMs: severity(1, 60_000).describe('API p99 latency in milliseconds (15 minutes)'),
      budgetShare: severity(0.01, 10).describe('Month spend / monthly budget (defaults 0.8 and 1.0)'),
      reviewSlaMinutes: severity(1, 10_080).describe(
        'Age of the oldest pending review, in minutes (defaults: half and 80% of escalation.reviewTimeoutMinutes)',
      ),
      fallbackRatePercent: severity(0, 1000).describe('Fallback model calls per 100 requests, sustained 15 minutes'),
      lambdaErrors: severity(1, 100_000).describe('Inference function errors per 5 minutes'),
      throttles: severity(1, 100_000).describe('Lambda throttles or DynamoDB throttled events per 5 minutes'),
      stateMachineFailures: severity(1, 100_000).describe('Review executions failed or timed out per 5 minutes'),
    })
    .optional()
    .describe('Alarm thresholds by severity (an alarm fires at or above its threshold); plan defaults otherwise'),
});

export type TenantFile = z.infer<typeof TenantFileSchema>;

/** A tenant with every default applied. */
export interface TenantConfig {
  readonly id: string;
  readonly displayName: string;
  readonly tier: Plan;
  readonly models: {
    readonly allowed: readonly Tier[];
    readonly default: Tier;
    readonly byTier: Partial<Record<Tier, string>>;
    readonly fallbacks: Partial<Record<Tier, readonly string[]>>;
  };
  readonly routing: {
    readonly mode: 'learned' | 'default-tier';
    readonly deepThreshold: number;
    readonly balancedThreshold: number;
    readonly nearCapShare: number;
  };
  readonly monthlyBudgetUsd: number;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly quota: { readonly limit: number; readonly period: 'DAY' | 'WEEK' | 'MONTH' };
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
    readonly onTimeout: 'reject' | 'release_unreviewed';
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
 * Applies the plan defaults and checks the rules that span fields. Returns the tenant or the problems.
 */
export function resolveTenant(file: TenantFile): { tenant?: TenantConfig; problems: FieldProblem[] } {
  const d = PLAN_DEFAULTS[file.tier];
  const allowed = TIERS.filter((t) => (file.models?.allowed ?? d.models.allowed).includes(t));
  const defaultTier = file.models?.default ?? (allowed.includes(d.models.default) ? d.models.default : allowed[0]!);
  const problems: FieldProblem[] = [];
  if (!allowed.includes(defaultTier)) {
    problems.push({
      path: 'models.default',
      message: `"${defaultTier}" is not in models.allowed; allowed: ${allowed.map((t) => `"${t}"`).join(' | ')}`,
    });
  }
  for (const t of Object.keys(file.models?.overrides ?? {}) as Tier[]) {
    if (!allowed.includes(t)) {
      problems.push({
        path: `models.overrides.${t}`,
        message: `tier "${t}" is not in models.allowed (${allowed.join(', ')}); remove the override or allow the tier`,
      });
    }
  }
  for (const t of Object.keys(file.models?.fallbacks ?? {}) as Tier[]) {
    if (!allowed.includes(t)) {
      problems.push({
        path: `models.fallbacks.${t}`,
        message: `tier "${t}" is not in models.allowed (${allowed.join(', ')}); remove the fallbacks or allow the tier`,
      });
    }
  }
  const routing = { mode: 'learned' as const, ...d.routing, ...file.routing };
  if (routing.balancedThreshold > routing.deepThreshold) {
    problems.push({
      path: 'routing.balancedThreshold',
      message: `${routing.balancedThreshold} is above routing.deepThreshold (${routing.deepThreshold}); it must be at most that`,
    });
  }
  const timeout = file.escalation?.reviewTimeoutMinutes ?? d.escalation.reviewTimeoutMinutes;
  const { webhookUrl, webhook: webhookFile, ...fileEscalation } = file.escalation ?? {};
  const webhook = webhookProblems(file.id, webhookUrl, webhookFile, problems);
  const escalation = {
    ...d.escalation,
    reviewHeartbeatMinutes: Math.min(d.escalation.reviewHeartbeatMinutes, Math.max(1, Math.floor(timeout / 2))),
    reviewerEmails: [] as string[],
    reviewerPrincipals: [] as string[],
    honourStatedConfidence: false,
    ...fileEscalation,
    ...(webhook ? { webhook } : {}),
  };
  if (escalation.reviewHeartbeatMinutes >= escalation.reviewTimeoutMinutes) {
    problems.push({
      path: 'escalation.reviewHeartbeatMinutes',
      message: `${escalation.reviewHeartbeatMinutes} must be below escalation.reviewTimeoutMinutes (${escalation.reviewTimeoutMinutes})`,
    });
  }
  if (escalation.reviewThreshold > escalation.confidenceThreshold) {
    problems.push({
      path: 'escalation.reviewThreshold',
      message: `${escalation.reviewThreshold} is above escalation.confidenceThreshold (${escalation.confidenceThreshold}); it must be at most that`,
    });
  }
  // Review on with nobody to tell: answers would wait in a queue nobody knows about until they time out.
  if (escalation.reviewThreshold > 0 && escalation.reviewerEmails.length === 0) {
    const from = file.escalation?.reviewThreshold === undefined ? ` (the ${file.tier} plan's)` : '';
    problems.push({
      path: 'escalation.reviewerEmails',
      message: `got none; escalation.reviewThreshold is ${escalation.reviewThreshold}${from}, so answers can go to human review, but no reviewer would be told: add a reviewer e-mail, or set escalation.reviewThreshold: 0 to turn human review off`,
    });
  }
  const retentionDays = file.dataRetentionDays ?? d.dataRetentionDays;
  // A request's record (and its review) must outlive the longest review, or TTL removes what the workflow reads.
  const reviewLifetimeMinutes = escalation.reviewTimeoutMinutes + REVIEW_EXECUTION_MARGIN_MINUTES;
  if (retentionDays * 1440 <= reviewLifetimeMinutes) {
    problems.push({
      path: 'dataRetentionDays',
      message: `${retentionDays} day(s) is not longer than a review may run (escalation.reviewTimeoutMinutes ${escalation.reviewTimeoutMinutes} + ${REVIEW_EXECUTION_MARGIN_MINUTES} min); keep records at least ${Math.floor(reviewLifetimeMinutes / 1440) + 1} days`,
    });
  }
  const limits = { ...d.limits, ...file.limits };
  if (limits.defaultMaxTokens > limits.maxOutputTokens) {
    problems.push({
      path: 'limits.defaultMaxTokens',
      message: `${limits.defaultMaxTokens} is above limits.maxOutputTokens (${limits.maxOutputTokens}); it must be at most that`,
    });
  }
  const throttle = { ...d.throttle, ...file.throttle };
  if (throttle.burstLimit < throttle.rateLimit) {
    problems.push({
      path: 'throttle.burstLimit',
      message: `${throttle.burstLimit} is below throttle.rateLimit (${throttle.rateLimit}); burst must be at least the rate`,
    });
  }
  const alarms = resolveAlarms(file, d.alarms, escalation.reviewTimeoutMinutes, problems);
  const guardrail = resolveGuardrail(file, problems);
  if (file.systemPreamble !== undefined) {
    const bytes = Buffer.byteLength(file.systemPreamble, 'utf8');
    if (bytes > PREAMBLE_MAX_CHARS) {
      problems.push({
        path: 'systemPreamble',
        message: `${bytes} bytes in UTF-8; at most ${PREAMBLE_MAX_CHARS} (it travels in the function's environment, which Lambda limits to 4 KB)`,
      });
    }
  }
  if (problems.length) return { problems };
  const byTier: Partial<Record<Tier, string>> = {};
  const fallbacks: Partial<Record<Tier, readonly string[]>> = {};
  for (const t of allowed) {
    byTier[t] = file.models?.overrides?.[t] ?? DEFAULT_TIER_MODELS[t];
    // A tier's own model is never its own fallback.
    fallbacks[t] = (file.models?.fallbacks?.[t] ?? DEFAULT_TIER_FALLBACKS[t]).filter((m) => m !== byTier[t]);
  }
  return {
    problems,
    tenant: {
      id: file.id,
      displayName: file.displayName ?? file.id,
      tier: file.tier,
      models: { allowed, default: defaultTier, byTier, fallbacks },
      routing,
      monthlyBudgetUsd: file.monthlyBudgetUsd ?? d.monthlyBudgetUsd,
      throttle,
      quota: { ...d.quota, ...file.quota },
      escalation,
      guardrail,
      ...(file.systemPreamble !== undefined ? { systemPreamble: file.systemPreamble } : {}),
      dataRetentionDays: retentionDays,
      limits,
      lambda: { ...d.lambda, ...file.lambda },
      tags: file.tags ?? {},
      opsEmails: file.opsEmails ?? [],
      monitoring: { ...d.monitoring, ...file.monitoring },
      alarms,
    },
  };
}

/** The command that sets a tenant's full webhook URL (README, "Webhooks"). */
export function webhookSetCommand(tenantId: string): string {
  return `npm run webhook:set -- --tenant ${tenantId} --url '<url>'`;
}

/**
 * The webhook's declared origin, checked like every webhook URL (lambda/shared/webhook-url.ts), or undefined;
 * the former `webhookUrl` is refused with what to do instead. Problems never show a path or query: they may
 * carry a secret, and synth output ends up in CI logs.
 */
function webhookProblems(
  tenantId: string,
  legacyUrl: string | undefined,
  webhook: { origin: string } | undefined,
  problems: FieldProblem[],
): { origin: string } | undefined {
  const setIt = `set the full URL after deploying with ${webhookSetCommand(tenantId)} (README, "Webhooks")`;
  if (legacyUrl !== undefined) {
    const asOrigin = checkWebhookUrl(shownOrigin(legacyUrl).replace(/\/…$/, ''), 'origin');
    const declare = asOrigin.ok ? `escalation.webhook.origin: "${asOrigin.origin}"` : 'escalation.webhook.origin';
    problems.push({
      path: 'escalation.webhookUrl',
      message: `got ${JSON.stringify(shownOrigin(legacyUrl))} (the rest is not shown: it may carry a secret); no longer accepted, because a webhook URL often carries a secret and would sit in the template and the function's environment: declare ${declare} and ${setIt}`,
    });
  }
  if (!webhook) return undefined;
  const checked = checkWebhookUrl(webhook.origin, 'origin');
  if (checked.ok) return { origin: checked.origin };
  const full = checkWebhookUrl(webhook.origin, 'url');
  problems.push({
    path: 'escalation.webhook.origin',
    message: full.ok
      ? `got ${JSON.stringify(shownOrigin(webhook.origin))} (the rest is not shown: it may carry a secret); ${checked.problem}: declare "${full.origin}" and ${setIt}`
      : `got ${JSON.stringify(shownOrigin(webhook.origin))}; ${checked.problem}`,
  });
  return undefined;
}

/**
 * The tenant's guardrail: the plan's, or the plan's with the file's changes. Only the strength of the harmful-content
 * filters may go either way; topics and PII types are added to the plan's, and the credentials every guardrail
 * blocks stay blocked. A file whose changes amount to the plan's guardrail shares it (no guardrail of its own).
 */
function resolveGuardrail(file: TenantFile, problems: FieldProblem[]): TenantConfig['guardrail'] {
  const plan = PLAN_GUARDRAILS[file.tier];
  const g = file.guardrail;
  if (g === undefined) return { source: 'plan', policy: plan };
  if (Object.keys(g).length === 0) {
    problems.push({
      path: 'guardrail',
      message:
        "sets nothing; remove it to share the plan's guardrail, or set harmfulContentStrength, deniedTopics or pii",
    });
  }
  const seen = new Map<string, number>();
  (g.deniedTopics ?? []).forEach((t, i) => {
    const key = t.name.trim().toLowerCase();
    const j = seen.get(key);
    if (j !== undefined) {
      problems.push({
        path: `guardrail.deniedTopics.${i}.name`,
        message: `"${t.name}" is already guardrail.deniedTopics.${j}.name (names are compared ignoring case); name each topic once`,
      });
    }
    seen.set(key, i);
  });
  const block = [...new Set(g.pii?.block ?? [])];
  (g.pii?.anonymize ?? []).forEach((type, i) => {
    if (ALWAYS_BLOCKED_PII.includes(type)) {
      problems.push({
        path: `guardrail.pii.anonymize.${i}`,
        message: `${type} is a credential: every guardrail blocks it in prompts and answers (${ALWAYS_BLOCKED_PII.join(', ')}); remove it`,
      });
    } else if (block.includes(type)) {
      problems.push({
        path: `guardrail.pii.anonymize.${i}`,
        message: `${type} is also in guardrail.pii.block; a type is either blocked or masked, list it once`,
      });
    }
  });
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
 * of the review timeout. Each warning must be below its critical, and the review SLA must be reachable
 * (below the review timeout, after which a review is no longer pending).
 */
function resolveAlarms(
  file: TenantFile,
  defaults: AlarmDefaults,
  reviewTimeoutMinutes: number,
  problems: FieldProblem[],
): TenantConfig['alarms'] {
  const all = { ...defaults, reviewSlaMinutes: defaultReviewSlaMinutes(reviewTimeoutMinutes) };
  const out = {} as Record<keyof TenantConfig['alarms'], SeverityThresholds>;
  for (const key of Object.keys(all) as Array<keyof TenantConfig['alarms']>) {
    const t = { ...all[key], ...file.alarms?.[key] };
    if (t.warning >= t.critical) {
      problems.push({
        path: `alarms.${key}.warning`,
        message: `${t.warning} must be below alarms.${key}.critical (${t.critical})`,
      });
    }
    out[key] = t;
  }
  if (out.reviewSlaMinutes.critical >= reviewTimeoutMinutes) {
    problems.push({
      path: 'alarms.reviewSlaMinutes.critical',
      message: `${out.reviewSlaMinutes.critical} must be below escalation.reviewTimeoutMinutes (${reviewTimeoutMinutes}): a review is no longer pending after its timeout`,
    });
  }
  return out;
}

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
    plan: t.tier,
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
