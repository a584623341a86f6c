/**
 * The tier catalog and the model price table: the single source of truth for which Amazon Bedrock model or
 * cross-region inference profile backs each tier and what it costs. Imported by the CDK code (IAM scoping,
 * tenant validation) and by the handlers (routing, cost accounting).
 *
 * Prices: Amazon Bedrock on-demand list prices, US East (N. Virginia), USD per 1M tokens, as published on
 * https://aws.amazon.com/bedrock/pricing/ and read on 2025-10-15 (Nova on-demand; Anthropic Claude Haiku 4.5
 * and Sonnet 4.5 at launch, standard context). US geographic inference profiles are billed at the price of
 * the source region. Verify against the pricing page before using these figures for chargeback.
 */

/** Model tiers, cheapest first. The order is the escalation order. */
export const TIERS = ['fast', 'balanced', 'deep'] as const;
export type Tier = (typeof TIERS)[number];

/** Where the price table was read, so reports can cite it. */
export const PRICE_SOURCE = {
  url: 'https://aws.amazon.com/bedrock/pricing/',
  region: 'us-east-1',
  readOn: '2025-10-15',
  currency: 'USD',
  unit: 'per 1M tokens',
} as const;

/** A Bedrock model (or inference profile) Switchboard may call. */
export interface ModelSpec {
  /** The id passed to Converse as `modelId`: an inference profile id (`us.…`) or a foundation model id. */
  readonly id: string;
  /** The foundation model behind it. */
  readonly foundationModelId: string;
  readonly displayName: string;
  /** `inference-profile` ids need the profile ARN plus the foundation-model ARN in every destination region. */
  readonly kind: 'inference-profile' | 'foundation-model';
  /** Regions the profile routes requests to (for IAM scoping). */
  readonly destinationRegions: readonly string[];
  /** USD per 1M tokens. At most 3 decimals, so costs are exact integers in nano-USD. */
  readonly priceUsdPerMillion: { readonly input: number; readonly output: number };
  /** Largest `maxTokens` the model accepts. */
  readonly maxOutputTokens: number;
}

const US_REGIONS = ['us-east-1', 'us-east-2', 'us-west-2'] as const;

/** Every model Switchboard knows. A tenant file may name only these. */
export const MODELS: Readonly<Record<string, ModelSpec>> = Object.freeze(
  Object.fromEntries(
    (
      [
        {
          id: 'us.amazon.nova-micro-v1:0',
          foundationModelId: 'amazon.nova-micro-v1:0',
          displayName: 'Amazon Nova Micro',
          kind: 'inference-profile',
          destinationRegions: US_REGIONS,
          priceUsdPerMillion: { input: 0.035, output: 0.14 },
          maxOutputTokens: 10000,
        },
        {
          id: 'us.amazon.nova-lite-v1:0',
          foundationModelId: 'amazon.nova-lite-v1:0',
          displayName: 'Amazon Nova Lite',
          kind: 'inference-profile',
          destinationRegions: US_REGIONS,
          priceUsdPerMillion: { input: 0.06, output: 0.24 },
          maxOutputTokens: 10000,
        },
        {
          id: 'us.amazon.nova-pro-v1:0',
          foundationModelId: 'amazon.nova-pro-v1:0',
          displayName: 'Amazon Nova Pro',
          kind: 'inference-profile',
          destinationRegions: US_REGIONS,
          priceUsdPerMillion: { input: 0.8, output: 3.2 },
          maxOutputTokens: 10000,
        },
        {
          id: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
          foundationModelId: 'anthropic.claude-haiku-4-5-20251001-v1:0',
          displayName: 'Anthropic Claude Haiku 4.5',
          kind: 'inference-profile',
          destinationRegions: US_REGIONS,
          priceUsdPerMillion: { input: 1.0, output: 5.0 },
          maxOutputTokens: 64000,
        },
        {
          id: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
          foundationModelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
          displayName: 'Anthropic Claude Sonnet 4.5',
          kind: 'inference-profile',
          destinationRegions: US_REGIONS,
          priceUsdPerMillion: { input: 3.0, output: 15.0 },
          maxOutputTokens: 64000,
        },
        {
          id: 'us.anthropic.claude-sonnet-4-20250514-v1:0',
          foundationModelId: 'anthropic.claude-sonnet-4-20250514-v1:0',
          displayName: 'Anthropic Claude Sonnet 4',
          kind: 'inference-profile',
          destinationRegions: US_REGIONS,
          priceUsdPerMillion: { input: 3.0, output: 15.0 },
          maxOutputTokens: 64000,
        },
      ] satisfies ModelSpec[]
    ).map((m) => [m.id, Object.freeze(m)]),
  ),
);

/** The model that backs each tier unless a tenant file overrides it. */
export const DEFAULT_TIER_MODELS: Readonly<Record<Tier, string>> = Object.freeze({
  fast: 'us.amazon.nova-micro-v1:0',
  balanced: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
  deep: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
});

/**
 * Alternatives tried, in order, when a tier's model is throttled, not ready, failing or too slow, before
 * the service falls back to a neighbouring tier. Each is a different model of similar strength and price,
 * so an outage or a throttled quota of one model does not take the tier down. A tenant file may override
 * them per tier (`models.fallbacks`).
 */
export const DEFAULT_TIER_FALLBACKS: Readonly<Record<Tier, readonly string[]>> = Object.freeze({
  fast: ['us.amazon.nova-lite-v1:0'],
  balanced: ['us.amazon.nova-pro-v1:0'],
  deep: ['us.anthropic.claude-sonnet-4-20250514-v1:0'],
});

/** Nano-USD per USD: costs are kept as integers so ledger records add up exactly to the counters. */
export const NANO_USD_PER_USD = 1_000_000_000;

/** True when `id` names a model in the catalog. */
export function isKnownModel(id: string): boolean {
  return Object.hasOwn(MODELS, id);
}

/** The catalog entry for a model id; throws for an id outside the catalog. */
export function getModel(id: string): ModelSpec {
  const m = MODELS[id];
  if (!m) throw new Error(`Unknown model '${id}'. Known models: ${Object.keys(MODELS).join(', ')}`);
  return m;
}

/** Token usage as Bedrock reports it. */
export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/**
 * Cost of a call in nano-USD (an integer): tokens × USD per 1M tokens × 1000.
 * Exact because every catalog price has at most 3 decimals (checked at module load).
 */
export function costNanoUsd(modelId: string, usage: TokenUsage): number {
  const p = getModel(modelId).priceUsdPerMillion;
  return usage.inputTokens * Math.round(p.input * 1000) + usage.outputTokens * Math.round(p.output * 1000);
}

/** Converts nano-USD to USD for display (rounded to 9 decimals to avoid float noise). */
export function nanoToUsd(nano: number): number {
  return Math.round(nano) / NANO_USD_PER_USD;
}

/** Converts USD (as configured, e.g. a budget) to integer nano-USD. */
export function usdToNano(usd: number): number {
  return Math.round(usd * NANO_USD_PER_USD);
}

/**
 * The IAM resource ARNs Converse needs for a model: for an inference profile, the profile ARN in the
 * calling region plus the foundation-model ARN in every destination region; for a foundation model, its ARN.
 * `partition`, `region` and `account` may be CloudFormation tokens.
 */
export function modelResourceArns(modelId: string, env: { partition: string; region: string; account: string }) {
  const m = getModel(modelId);
  const fm = (region: string) => `arn:${env.partition}:bedrock:${region}::foundation-model/${m.foundationModelId}`;
  if (m.kind === 'foundation-model') return [fm(env.region)];
  return [
    `arn:${env.partition}:bedrock:${env.region}:${env.account}:inference-profile/${m.id}`,
    ...m.destinationRegions.map(fm),
  ];
}

for (const m of Object.values(MODELS)) {
  for (const price of [m.priceUsdPerMillion.input, m.priceUsdPerMillion.output]) {
    if (!Number.isInteger(Math.round(price * 1e6) / 1000)) {
      throw new Error(`Price ${price} of ${m.id} has more than 3 decimals; costs would not be exact`);
    }
  }
}
