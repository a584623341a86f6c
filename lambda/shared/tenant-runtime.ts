/**
 * What a handler knows about its tenant. The CDK app builds it from the tenant file and passes it as the
 * `TENANT_CONFIG` environment variable (JSON); the handler parses it once at init with this schema, so the
 * two sides cannot drift.
 */

import * as z from 'zod/mini';
import { API_LIMITS } from './api-schema';
import { GUARDRAIL_POLICIES, isKnownModel, TIERS } from './catalog';
import { PLANS, ROUTING_MODES, TENANT_ID_PATTERN } from './tenant-vocabulary';
import './zod-messages';

const TierEnum = z.enum(TIERS);
const KnownModel = z.string().check(z.refine(isKnownModel, 'unknown model'));
const Share = z.number().check(z.minimum(0), z.maximum(1));

/** Longest platform or tenant system preamble, in characters (each also at most this many UTF-8 bytes). */
export const PREAMBLE_MAX_CHARS = 1000;

/** A guardrail ARN as Bedrock takes it in `guardrailIdentifier` (API reference pattern). */
const GUARDRAIL_ARN_PATTERN = /^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail\/[a-z0-9]+$/;
/** A numbered guardrail version (calls pin one; `DRAFT` is never used). */
const GUARDRAIL_VERSION_PATTERN = /^[1-9][0-9]{0,7}$/;

/**
 * Environment variables that carry the tenant's guardrail: its ARN and the version every model call pins. They
 * are deploy-time values (the guardrail may live in the platform stack), so they sit beside `TENANT_CONFIG`
 * rather than inside its JSON.
 */
export const GUARDRAIL_ENV = { arn: 'GUARDRAIL_ARN', version: 'GUARDRAIL_VERSION' } as const;

/** The guardrail every model call of the function applies (read from {@link GUARDRAIL_ENV} at init). */
export const GuardrailRefSchema = z.strictObject({
  arn: z.string().check(z.regex(GUARDRAIL_ARN_PATTERN, 'must be a guardrail ARN')),
  version: z.string().check(z.regex(GUARDRAIL_VERSION_PATTERN, 'must be a numbered version')),
});
export type GuardrailRef = z.infer<typeof GuardrailRefSchema>;

/** The guardrail of {@link GUARDRAIL_ENV}; throws at init when a variable is missing or malformed. */
export function guardrailFromEnv(env: NodeJS.ProcessEnv = process.env): GuardrailRef {
  return GuardrailRefSchema.parse({ arn: env[GUARDRAIL_ENV.arn], version: env[GUARDRAIL_ENV.version] });
}

export const TenantRuntimeConfigSchema = z.strictObject({
  tenantId: z.string().check(z.regex(TENANT_ID_PATTERN)),
  plan: z.enum(PLANS),
  /** Tier used when a request says `auto` or names none. */
  defaultTier: TierEnum,
  /** Which model backs each allowed tier; tiers missing here are not allowed. */
  tierModels: z.partialRecord(TierEnum, KnownModel),
  /** Alternatives per allowed tier, tried in order when the tier's model fails (throttling, outage, timeout). */
  tierFallbacks: z.partialRecord(TierEnum, z.array(KnownModel).check(z.maxLength(3))),
  /** The learned router's thresholds on its score (P(the strong model is needed)) and the budget guard. */
  routing: z.strictObject({
    /** `learned`: tier `auto` is chosen by the router; `default-tier`: auto always means `defaultTier`. */
    mode: z.enum(ROUTING_MODES),
    deepThreshold: Share,
    balancedThreshold: Share,
    /** Share of the monthly budget from which `auto` requests go to the cheapest allowed tier. */
    nearCapShare: Share,
  }),
  /** The cascade: re-ask a stronger tier below `confidenceThreshold`; hand to people below `reviewThreshold`. */
  escalation: z.strictObject({
    confidenceThreshold: Share,
    reviewThreshold: Share,
    /** Reviews that may wait for a decision at once; an answer that needs review beyond it is a 429. */
    maxOpenReviews: z.number().check(z.int(), z.positive()),
    /** Reviews that may start in one UTC hour; beyond it, a 429. */
    maxReviewsPerHour: z.number().check(z.int(), z.positive()),
    /**
     * Whether a "Confidence: x" line in an answer counts toward its score. Off unless the tenant file opts in:
     * a prompt can make the model write any such line.
     */
    honourStatedConfidence: z.boolean(),
  }),
  /**
   * The tenant's Bedrock guardrail (its identity, ARN and version, comes in {@link GUARDRAIL_ENV}): whose it is
   * and which billed policies it has, for the worst-case cost a call reserves.
   */
  guardrail: z.strictObject({
    source: z.enum(['plan', 'tenant']),
    policies: z.array(z.enum(GUARDRAIL_POLICIES)),
  }),
  /**
   * System text put before the caller's own `system` on every model call: the platform's, then the tenant's.
   * Not part of the request body, so a caller can neither remove nor replace it.
   */
  preamble: z.strictObject({
    platform: z.optional(z.string().check(z.minLength(1), z.maxLength(PREAMBLE_MAX_CHARS))),
    tenant: z.optional(z.string().check(z.minLength(1), z.maxLength(PREAMBLE_MAX_CHARS))),
  }),
  monthlyBudgetUsd: z.number().check(z.nonnegative()),
  limits: z.strictObject({
    maxPromptChars: z.number().check(z.int(), z.positive(), z.maximum(API_LIMITS.maxPromptChars)),
    maxOutputTokens: z.number().check(z.int(), z.positive(), z.maximum(API_LIMITS.maxOutputTokens)),
    defaultMaxTokens: z.number().check(z.int(), z.positive(), z.maximum(API_LIMITS.maxOutputTokens)),
  }),
  dataRetentionDays: z.number().check(z.int(), z.positive()),
});

export type TenantRuntimeConfig = z.infer<typeof TenantRuntimeConfigSchema>;

/** Name of the environment variable that carries the tenant runtime config. */
export const TENANT_CONFIG_ENV = 'TENANT_CONFIG';
/** Name of the environment variable that carries the ledger table name. */
export const LEDGER_TABLE_ENV = 'LEDGER_TABLE_NAME';

/**
 * The scheduled event that asks the inference function to reconcile the ledger (EventBridge schedule in
 * lib/constructs/inference): close runs that died with budget reservations open, in this month and the last.
 */
export const RECONCILE_EVENT = { switchboard: 'reconcile' } as const;
/** How often the reconciler runs when the inference function gets no housekeeping schedule to join. */
export const RECONCILE_EVERY_MINUTES = 15;
