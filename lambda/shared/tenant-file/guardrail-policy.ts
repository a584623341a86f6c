/**
 * What Switchboard's Amazon Bedrock guardrails check: one shared guardrail per plan (platform stack), and one of
 * its own for a tenant whose file customizes it (`guardrail:` in the tenant file). Every model call applies the
 * tenant's guardrail (IAM refuses a call without it).
 *
 * Sources:
 * - content filters and prompt attacks (strengths; PROMPT_ATTACK filters prompts only, its output strength must be
 *   NONE): https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-content-filters.html,
 *   https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-prompt-attack.html
 * - denied topics (name 1–100 characters of letters, digits, space and `-_!?.`; definition up to 200 characters in
 *   the Classic tier; at most 5 examples of up to 100 characters; at most 30 topics):
 *   https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GuardrailTopicConfig.html
 * - sensitive information (PII) entity types and the BLOCK / ANONYMIZE actions:
 *   https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-sensitive-filters.html
 * - blocked messages of 1–500 characters: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateGuardrail.html
 */
import { createHash } from 'node:crypto';
import type { GuardrailPolicy } from '../catalog';
import type { Plan } from '../tenant-vocabulary';

/** Filter strengths a guardrail may use (NONE only where AWS requires it: prompt attacks on answers). */
export const GUARDRAIL_STRENGTHS = ['LOW', 'MEDIUM', 'HIGH'] as const;
export type GuardrailStrength = (typeof GUARDRAIL_STRENGTHS)[number];

/** The harmful-content categories, filtered in prompts and answers at the guardrail's strength. */
export const HARMFUL_CONTENT_FILTERS = ['HATE', 'INSULTS', 'SEXUAL', 'VIOLENCE', 'MISCONDUCT'] as const;

/** Managed PII entity types (CloudFormation `AWS::Bedrock::Guardrail` PiiEntityConfig `Type`). */
export const PII_ENTITY_TYPES = [
  'ADDRESS',
  'AGE',
  'NAME',
  'EMAIL',
  'PHONE',
  'USERNAME',
  'PASSWORD',
  'DRIVER_ID',
  'LICENSE_PLATE',
  'VEHICLE_IDENTIFICATION_NUMBER',
  'CREDIT_DEBIT_CARD_CVV',
  'CREDIT_DEBIT_CARD_EXPIRY',
  'CREDIT_DEBIT_CARD_NUMBER',
  'PIN',
  'INTERNATIONAL_BANK_ACCOUNT_NUMBER',
  'SWIFT_CODE',
  'IP_ADDRESS',
  'MAC_ADDRESS',
  'URL',
  'AWS_ACCESS_KEY',
  'AWS_SECRET_KEY',
  'US_BANK_ACCOUNT_NUMBER',
  'US_BANK_ROUTING_NUMBER',
  'US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER',
  'US_PASSPORT_NUMBER',
  'US_SOCIAL_SECURITY_NUMBER',
  'CA_HEALTH_NUMBER',
  'CA_SOCIAL_INSURANCE_NUMBER',
  'UK_NATIONAL_HEALTH_SERVICE_NUMBER',
  'UK_NATIONAL_INSURANCE_NUMBER',
  'UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER',
] as const;
export type PiiEntityType = (typeof PII_ENTITY_TYPES)[number];

/**
 * Credentials: blocked in prompts and in answers by every guardrail, whatever a tenant file says. A secret pasted
 * into a prompt never reaches a model (or its provider's logs), and a model never hands one out.
 */
export const ALWAYS_BLOCKED_PII: readonly PiiEntityType[] = ['AWS_ACCESS_KEY', 'AWS_SECRET_KEY', 'PASSWORD'];

/**
 * Contact data and identifiers every plan masks in answers (`{EMAIL}` instead of the address): a model should not
 * hand out what it read or made up about people. Prompts keep them (a caller may legitimately send its own).
 */
export const PLAN_ANONYMIZED_PII: readonly PiiEntityType[] = [
  'EMAIL',
  'PHONE',
  'ADDRESS',
  'US_SOCIAL_SECURITY_NUMBER',
  'CREDIT_DEBIT_CARD_NUMBER',
  'CREDIT_DEBIT_CARD_CVV',
  'INTERNATIONAL_BANK_ACCOUNT_NUMBER',
  'US_BANK_ACCOUNT_NUMBER',
];

/** A denied topic: a subject the tenant's API must not discuss, in prompts or answers. */
export interface DeniedTopic {
  readonly name: string;
  readonly definition: string;
  readonly examples: readonly string[];
}

/** Characters a denied topic's name may use, and the limits of its fields (Classic tier). */
export const TOPIC_NAME_PATTERN = /^[0-9a-zA-Z\-_ !?.]+$/;
export const TOPIC_LIMITS = { name: 100, definition: 200, examples: 5, example: 100, topics: 30 } as const;

/** A guardrail's policies, resolved. */
export interface GuardrailPolicyConfig {
  /** Strength of the harmful-content filters ({@link HARMFUL_CONTENT_FILTERS}), prompts and answers. */
  readonly harmfulContentStrength: GuardrailStrength;
  /** Strength of the prompt-attack filter (prompts only). */
  readonly promptAttackStrength: GuardrailStrength;
  readonly deniedTopics: readonly DeniedTopic[];
  /** PII entity types blocked (prompts and answers) and masked (answers). */
  readonly pii: { readonly block: readonly PiiEntityType[]; readonly anonymize: readonly PiiEntityType[] };
}

/**
 * The plans' shared guardrails. The strictest default goes to the plan that pays least: basic tenants are the least
 * vetted and have no reviewers to spare. Strength trades blocked harmless text (false positives) for caught harmful
 * text; a tenant whose use needs another balance sets `guardrail.harmfulContentStrength` in its file.
 */
export const PLAN_GUARDRAILS: Readonly<Record<Plan, GuardrailPolicyConfig>> = {
  basic: {
    harmfulContentStrength: 'HIGH',
    promptAttackStrength: 'HIGH',
    deniedTopics: [],
    pii: { block: ALWAYS_BLOCKED_PII, anonymize: PLAN_ANONYMIZED_PII },
  },
  standard: {
    harmfulContentStrength: 'MEDIUM',
    promptAttackStrength: 'HIGH',
    deniedTopics: [],
    pii: { block: ALWAYS_BLOCKED_PII, anonymize: PLAN_ANONYMIZED_PII },
  },
  premium: {
    harmfulContentStrength: 'MEDIUM',
    promptAttackStrength: 'HIGH',
    deniedTopics: [],
    pii: { block: ALWAYS_BLOCKED_PII, anonymize: PLAN_ANONYMIZED_PII },
  },
};

/**
 * What a caller reads when the guardrail blocks: stable texts (clients may match them), one for a blocked prompt
 * (no model ran) and one for a withheld answer.
 */
export const GUARDRAIL_BLOCKED_MESSAGES = {
  input:
    'Switchboard blocked this request: it matched the content policy of this API (guardrail). It was not sent to a model. Rephrase the request without the blocked content.',
  output:
    "Switchboard withheld the model's answer: it matched the content policy of this API (guardrail). Rephrase the request or ask the platform team about the policy.",
} as const;

/** The billed guardrail policies of a configuration (what a call's worst case reserves). */
export function billedPolicies(p: GuardrailPolicyConfig): GuardrailPolicy[] {
  const out: GuardrailPolicy[] = ['content'];
  if (p.deniedTopics.length > 0) out.push('topics');
  if (p.pii.block.length + p.pii.anonymize.length > 0) out.push('sensitiveInformation');
  return out;
}

/** A short, stable digest of a configuration: a new guardrail version is cut whenever it changes. */
export function policyDigest(p: GuardrailPolicyConfig): string {
  const canonical = {
    h: p.harmfulContentStrength,
    a: p.promptAttackStrength,
    t: p.deniedTopics.map((t) => [t.name, t.definition, [...t.examples]]),
    b: [...p.pii.block].sort(),
    n: [...p.pii.anonymize].sort(),
    m: GUARDRAIL_BLOCKED_MESSAGES,
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex').slice(0, 16);
}

/** True when two configurations give the same guardrail. */
export function samePolicy(a: GuardrailPolicyConfig, b: GuardrailPolicyConfig): boolean {
  return policyDigest(a) === policyDigest(b);
}
