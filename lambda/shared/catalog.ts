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

// Prices below: https://aws.amazon.com/bedrock/pricing/, us-east-1, read on 2025-10-15, USD per 1M tokens.

/** A page a figure was read from, and the day. */
export interface CatalogSource {
  readonly url: string;
  readonly readOn: string;
  /** How the figure was derived, when it is not read off the page as is. */
  readonly note?: string;
}

/** A Bedrock model (or inference profile) Switchboard may call. */
export interface ModelSpec {
  /** The id passed to Converse as `modelId`: an inference profile id (`us.…`) or a foundation model id. */
  readonly id: string;
  /** The foundation model behind it. */
  readonly foundationModelId: string;
  readonly displayName: string;
  /** `inference-profile` ids need the profile ARN plus the foundation-model ARN in every destination region. */
  readonly kind: 'inference-profile' | 'foundation-model';
  /** Regions the profile may be called from (a stack in another region cannot use it). */
  readonly sourceRegions: readonly string[];
  /**
   * Regions the profile routes requests to (IAM names the foundation model in each; a call routed to a region
   * IAM does not name fails with AccessDeniedException, which the handler answers with a fallback).
   */
  readonly destinationRegions: readonly string[];
  /** Where the source and destination regions come from. */
  readonly regionsSource: CatalogSource;
  /** USD per 1M tokens. At most 3 decimals, so costs are exact integers in nano-USD. */
  readonly priceUsdPerMillion: { readonly input: number; readonly output: number };
  /** Largest `maxTokens` the model accepts. */
  readonly maxOutputTokens: number;
  /**
   * Output speed and time to the first token on Bedrock, conservative (the slow end of what was published):
   * the synth checks that a tenant's largest answer fits the time a call gets. Measured values of an account
   * (CloudWatch AWS/Bedrock OutputTokenCount / InvocationLatency) can replace them in cdk.json.
   */
  readonly speed: {
    readonly outputTokensPerSecond: number;
    readonly firstTokenMs: number;
    readonly source: CatalogSource;
  };
  /**
   * Default cross-region tokens-per-minute quota in the US source regions (input + output; Claude Sonnet output
   * tokens count `outputTokenBurndown` times), for the capacity model.
   */
  readonly tokensPerMinute: {
    readonly quota: number;
    readonly outputTokenBurndown: number;
    readonly source: CatalogSource;
  };
}

/** The US regions the catalog's US cross-region inference profiles route to. */
const US_REGIONS = ['us-east-1', 'us-east-2', 'us-west-2'] as const;
const READ_ON = '2026-12-02';
const PROFILES_PAGE = 'https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html';
/** AWS blog stating the US Claude Sonnet 4.5 profile's destinations (us-east-1, us-east-2, us-west-2). */
const SONNET_45_REGIONS: CatalogSource = {
  url: 'https://aws.amazon.com/blogs/machine-learning/unlock-global-ai-inference-scalability-using-new-global-cross-region-inference-on-amazon-bedrock-with-anthropics-claude-sonnet-4-5/',
  readOn: READ_ON,
  note: '"the US Anthropic Claude Sonnet 4.5 Geographic cross-Region inference requires access to us-east-1, us-east-2, and us-west-2"; ca-central-1 is a source region too (AWS blog on Canada cross-region inference, 2025-11-24)',
};
const US_PROFILE_REGIONS: CatalogSource = {
  url: PROFILES_PAGE,
  readOn: READ_ON,
  note: 'The per-profile table was not readable on the day; regions as the profile returned them to GetInferenceProfile in public deployments. Verify with: aws bedrock get-inference-profile --inference-profile-identifier <id> --query "models[].modelArn"',
};
const QUOTAS_JUNE_2025: CatalogSource = {
  url: 'https://docs.aws.amazon.com/general/latest/gr/bedrock.html#limits_bedrock',
  readOn: READ_ON,
  note: 'Cross-region tokens per minute in us-east-1, us-east-2 and us-west-2, from the June 2025 version of the table (the current page was not readable); the applied value of an account may be lower',
};
const QUOTA_NOT_PUBLISHED: CatalogSource = {
  url: 'https://docs.aws.amazon.com/bedrock/latest/userguide/quotas-runtime.html',
  readOn: READ_ON,
  note: "No default was readable for this model; assumed equal to Claude Sonnet 4's (200,000). Set the applied value from Service Quotas in cdk.json",
};
const BURNDOWN: CatalogSource = {
  url: 'https://docs.aws.amazon.com/bedrock/latest/userguide/quotas-token-burndown.html',
  readOn: READ_ON,
  note: 'Claude Sonnet 4 and 4.5 output tokens count 5 times against the quota (AWS blog on Canada cross-region inference, 2025-11-24)',
};
const SPEED_NOT_PUBLISHED = (proxy: string): CatalogSource => ({
  url: 'https://artificialanalysis.ai/models/claude-35-sonnet/providers',
  readOn: READ_ON,
  note: `No output speed on Bedrock was published for this model; ${proxy}`,
});

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
          sourceRegions: US_REGIONS,
          destinationRegions: US_REGIONS,
          regionsSource: US_PROFILE_REGIONS,
          priceUsdPerMillion: { input: 0.035, output: 0.14 },
          maxOutputTokens: 10000,
          speed: {
            outputTokensPerSecond: 299,
            firstTokenMs: 330,
            source: {
              url: 'https://aiperf.ghast.people.aws.dev/',
              readOn: READ_ON,
              note: 'Bedrock benchmark (not an official AWS page): 299–575 tokens/s by task, first token 0.21–0.33 s; the slow end',
            },
          },
          tokensPerMinute: { quota: 4_000_000, outputTokenBurndown: 1, source: QUOTAS_JUNE_2025 },
        },
        {
          id: 'us.amazon.nova-lite-v1:0',
          foundationModelId: 'amazon.nova-lite-v1:0',
          displayName: 'Amazon Nova Lite',
          kind: 'inference-profile',
          sourceRegions: US_REGIONS,
          destinationRegions: US_REGIONS,
          regionsSource: US_PROFILE_REGIONS,
          priceUsdPerMillion: { input: 0.06, output: 0.24 },
          maxOutputTokens: 10000,
          speed: {
            outputTokensPerSecond: 141,
            firstTokenMs: 400,
            source: {
              url: 'https://vercel.com/ai-gateway/models/nova-lite',
              readOn: READ_ON,
              note: "First token 0.4 s on Amazon Bedrock; no throughput published, taken as Nova Pro's (141 tokens/s), a larger model of the same family",
            },
          },
          tokensPerMinute: { quota: 4_000_000, outputTokenBurndown: 1, source: QUOTAS_JUNE_2025 },
        },
        {
          id: 'us.amazon.nova-pro-v1:0',
          foundationModelId: 'amazon.nova-pro-v1:0',
          displayName: 'Amazon Nova Pro',
          kind: 'inference-profile',
          sourceRegions: US_REGIONS,
          destinationRegions: US_REGIONS,
          regionsSource: US_PROFILE_REGIONS,
          priceUsdPerMillion: { input: 0.8, output: 3.2 },
          maxOutputTokens: 10000,
          speed: {
            outputTokensPerSecond: 141,
            firstTokenMs: 300,
            source: {
              url: 'https://vercel.com/ai-gateway/models/nova-pro',
              readOn: READ_ON,
              note: 'Amazon Bedrock provider: 141 tokens/s, first token 0.3 s (live P50, undated)',
            },
          },
          tokensPerMinute: { quota: 800_000, outputTokenBurndown: 1, source: QUOTAS_JUNE_2025 },
        },
        {
          id: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
          foundationModelId: 'anthropic.claude-haiku-4-5-20251001-v1:0',
          displayName: 'Anthropic Claude Haiku 4.5',
          kind: 'inference-profile',
          sourceRegions: [...US_REGIONS, 'ca-central-1'],
          destinationRegions: US_REGIONS,
          regionsSource: US_PROFILE_REGIONS,
          priceUsdPerMillion: { input: 1.0, output: 5.0 },
          maxOutputTokens: 64000,
          speed: {
            outputTokensPerSecond: 53,
            firstTokenMs: 500,
            source: {
              url: 'https://artificialanalysis.ai/models/claude-4-5-haiku/providers',
              readOn: READ_ON,
              note: "Artificial Analysis: 53 tokens/s and 0.48 s to the first token on Anthropic's API (88 tokens/s on Vertex); no Bedrock figure, the slow end is used",
            },
          },
          tokensPerMinute: { quota: 200_000, outputTokenBurndown: 1, source: QUOTA_NOT_PUBLISHED },
        },
        {
          id: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
          foundationModelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
          displayName: 'Anthropic Claude Sonnet 4.5',
          kind: 'inference-profile',
          sourceRegions: [...US_REGIONS, 'ca-central-1'],
          destinationRegions: US_REGIONS,
          regionsSource: SONNET_45_REGIONS,
          priceUsdPerMillion: { input: 3.0, output: 15.0 },
          maxOutputTokens: 64000,
          speed: {
            outputTokensPerSecond: 50,
            firstTokenMs: 1000,
            source: SPEED_NOT_PUBLISHED(
              'Claude 3.5 Sonnet measured 54 tokens/s and 0.93 s to the first token on Amazon Bedrock; 50 tokens/s and 1 s are used',
            ),
          },
          tokensPerMinute: {
            quota: 200_000,
            outputTokenBurndown: 5,
            source: { ...QUOTA_NOT_PUBLISHED, note: `${QUOTA_NOT_PUBLISHED.note}. ${BURNDOWN.note}` },
          },
        },
        {
          id: 'us.anthropic.claude-sonnet-4-20250514-v1:0',
          foundationModelId: 'anthropic.claude-sonnet-4-20250514-v1:0',
          displayName: 'Anthropic Claude Sonnet 4',
          kind: 'inference-profile',
          sourceRegions: US_REGIONS,
          destinationRegions: US_REGIONS,
          regionsSource: US_PROFILE_REGIONS,
          priceUsdPerMillion: { input: 3.0, output: 15.0 },
          maxOutputTokens: 64000,
          speed: {
            outputTokensPerSecond: 50,
            firstTokenMs: 1000,
            source: SPEED_NOT_PUBLISHED(
              'Claude 3.5 Sonnet measured 54 tokens/s and 0.93 s to the first token on Amazon Bedrock; 50 tokens/s and 1 s are used',
            ),
          },
          tokensPerMinute: {
            quota: 200_000,
            outputTokenBurndown: 5,
            source: { ...QUOTAS_JUNE_2025, note: `${QUOTAS_JUNE_2025.note}. ${BURNDOWN.note}` },
          },
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
const NANO_USD_PER_USD = 1_000_000_000;

/** The models of `ids` that cannot be called from `region` (a profile's source regions do not include it). */
export function modelsNotCallableFrom(region: string, ids: readonly string[]): string[] {
  return ids.filter((id) => !getModel(id).sourceRegions.includes(region));
}

/** Regions every model of the catalog can be called from. */
export function catalogRegions(): string[] {
  const all = Object.values(MODELS).map((m) => new Set(m.sourceRegions));
  return [...all[0]!].filter((r) => all.every((set) => set.has(r))).sort();
}

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

/**
 * Amazon Bedrock Guardrails policies that are billed per text unit (word filters and regular expressions are
 * free). `sensitiveInformation` is the managed PII entities.
 */
export const GUARDRAIL_POLICIES = ['content', 'topics', 'sensitiveInformation'] as const;
export type GuardrailPolicy = (typeof GUARDRAIL_POLICIES)[number];

/** Characters in one guardrail text unit: longer text is evaluated (and billed) as several units. */
export const GUARDRAIL_TEXT_UNIT_CHARS = 1000;

/**
 * Guardrail prices: USD per 1,000 text units per policy, on-demand, since the December 2024 price reduction.
 * Exact in nano-USD (150,000 per content-filter unit).
 */
export const GUARDRAIL_PRICES: {
  readonly usdPer1000Units: Readonly<Record<GuardrailPolicy, number>>;
  readonly source: CatalogSource;
} = {
  usdPer1000Units: { content: 0.15, topics: 0.15, sensitiveInformation: 0.1 },
  source: {
    url: 'https://aws.amazon.com/bedrock/pricing/',
    readOn: READ_ON,
    note: "Guardrails tab: content filters and denied topics $0.15, sensitive information filters (PII) $0.10 per 1,000 text units of up to 1,000 characters; word filters and regular expressions free (the page renders its tabs client-side; figures as summarised on hivebook.wiki and techjacksolutions.com, matching the AWS What's New of 2024-12-02). Verify before chargeback.",
  },
};

/** Text units a guardrail evaluated, per billed policy (the Converse trace reports them per assessment). */
export type GuardrailUnits = Partial<Record<GuardrailPolicy, number>>;

/** Nano-USD of guardrail text units (an integer). */
export function guardrailCostNanoUsd(units: GuardrailUnits | undefined): number {
  if (!units) return 0;
  let nano = 0;
  for (const p of GUARDRAIL_POLICIES) nano += (units[p] ?? 0) * Math.round(GUARDRAIL_PRICES.usdPer1000Units[p] * 1e6);
  return nano;
}

/** Token usage as Bedrock reports it, and the guardrail text units the call was billed. */
export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Text units the call's guardrail evaluated (input and output), billed on top of the tokens. */
  readonly guardrailUnits?: GuardrailUnits;
}

/**
 * Cost of a call in nano-USD (an integer): tokens × USD per 1M tokens × 1000, plus the guardrail's text units ×
 * their price. Exact because every catalog price has at most 3 decimals (checked at module load).
 */
export function costNanoUsd(modelId: string, usage: TokenUsage): number {
  const p = getModel(modelId).priceUsdPerMillion;
  return (
    usage.inputTokens * Math.round(p.input * 1000) +
    usage.outputTokens * Math.round(p.output * 1000) +
    guardrailCostNanoUsd(usage.guardrailUnits)
  );
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

for (const price of Object.values(GUARDRAIL_PRICES.usdPer1000Units)) {
  if (!Number.isInteger(Math.round(price * 1e9) / 1000)) {
    throw new Error(`Guardrail price ${price} has more than 6 decimals; costs would not be exact`);
  }
}
for (const m of Object.values(MODELS)) {
  for (const price of [m.priceUsdPerMillion.input, m.priceUsdPerMillion.output]) {
    if (!Number.isInteger(Math.round(price * 1e6) / 1000)) {
      throw new Error(`Price ${price} of ${m.id} has more than 3 decimals; costs would not be exact`);
    }
  }
}
