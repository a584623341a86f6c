/**
 * The tenant file schema (`tenants/<id>.yaml`): what each field may hold on its own. Only `id` and `plan` are
 * required (and, by a rule across fields, a reviewer e-mail while human review is on); everything else defaults
 * from the plan (plan-defaults.ts). Defaults and the rules across fields are tenant-config.ts and
 * resolution-rules.ts; what the handlers receive is runtime-config.ts. The JSON Schema editors use
 * (`tenant.schema.json`) is generated from this schema by `npm run schema:tenant`.
 */
import { z } from 'zod';
import { API_LIMITS } from '../api-schema';
import { isKnownModel } from '../catalog';
import { REVIEW_CAP_LIMITS } from '../review-schema';
import { PREAMBLE_MAX_CHARS } from '../tenant-runtime';
import {
  PLANS,
  QUOTA_PERIODS,
  ROUTING_MODES,
  TENANT_ID_PATTERN,
  TENANT_ID_RULE,
  TIMEOUT_POLICIES,
} from '../tenant-vocabulary';
import { WEBHOOK_ORIGIN_MAX_CHARS } from '../webhook-url';
import { GUARDRAIL_STRENGTHS, PII_ENTITY_TYPES, TOPIC_LIMITS, TOPIC_NAME_PATTERN } from './guardrail-policy';
import { ALARM_SETS, ISOLATION_MODES, OFFBOARDING_DATA_POLICIES } from './plan-defaults';
import { MAX_TENANT_TAGS, tagCountProblem } from './tags';
import {
  IAM_PRINCIPAL_ARN_PATTERN,
  knownModels,
  rejectDuplicateEmails,
  rejectForeignOrRepeatedPrincipals,
  severity,
  TagKeySchema,
  TagValueSchema,
  TierEnum,
} from './tenant-schema-parts';

export { IAM_PRINCIPAL_ARN_PATTERN } from './tenant-schema-parts';

/** What a tenant file may contain. */
export const TenantFileSchema = z.strictObject({
  id: z.string().regex(TENANT_ID_PATTERN, { message: TENANT_ID_RULE }),
  displayName: z.string().min(1).max(64).optional().describe('Human name; defaults to the id'),
  plan: z.enum(PLANS).describe('Plan: sets the defaults of every other field'),
  isolation: z
    .enum(ISOLATION_MODES)
    .optional()
    .describe(
      '"pool": served by a shared pool cell, onboarded through the control plane; "silo": a stack of its own (default: the plan\'s, basic → pool, others → silo)',
    ),
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
        .enum(ROUTING_MODES)
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
      period: z.enum(QUOTA_PERIODS).optional(),
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
      onTimeout: z.enum(TIMEOUT_POLICIES).optional(),
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
  offboarding: z
    .strictObject({
      data: z
        .enum(OFFBOARDING_DATA_POLICIES)
        .optional()
        .describe(
          '"retain" (default): a pooled tenant\'s records stay after offboarding until their TTL (dataRetentionDays) removes them; "delete": the control plane deletes them when the tenant is offboarded, and the evidence record counts them',
        ),
    })
    .optional()
    .describe("What happens to the tenant's data when it is offboarded"),
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

/**
 * Top-level fields of a tenant file that were renamed: a file still using the old name is refused with a
 * problem that names the new one (and not also with the new one missing).
 */
export const RENAMED_FIELDS: ReadonlyMap<string, { readonly to: keyof TenantFile; readonly message: string }> = new Map(
  [['tier', { to: 'plan', message: `renamed to "plan" (${PLANS.join('|')})` }]],
);
