import {
  costNanoUsd,
  DEFAULT_TIER_MODELS,
  getModel,
  MODELS,
  modelResourceArns,
  nanoToUsd,
  TIERS,
} from '../../../lambda/shared/catalog';

describe('tier catalog and price table', () => {
  it('backs every tier with a known US cross-region inference profile', () => {
    for (const t of TIERS) {
      const m = getModel(DEFAULT_TIER_MODELS[t]);
      expect(m.id.startsWith('us.')).toBe(true);
      expect(m.kind).toBe('inference-profile');
    }
  });

  it('orders tiers by price: fast < balanced < deep', () => {
    const price = (t: (typeof TIERS)[number]) => getModel(DEFAULT_TIER_MODELS[t]).priceUsdPerMillion.output;
    expect(price('fast')).toBeLessThan(price('balanced'));
    expect(price('balanced')).toBeLessThan(price('deep'));
  });

  it.each([
    ['us.amazon.nova-micro-v1:0', 1_000_000, 1_000_000, 0.035 + 0.14],
    ['us.anthropic.claude-haiku-4-5-20251001-v1:0', 1000, 500, 0.001 + 0.0025],
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 1, 1, 0.000003 + 0.000015],
  ])('prices %s exactly (%i in, %i out)', (id, input, output, usd) => {
    const nano = costNanoUsd(id, { inputTokens: input, outputTokens: output });
    expect(Number.isInteger(nano)).toBe(true);
    expect(nanoToUsd(nano)).toBeCloseTo(usd, 12);
  });

  it('adds up exactly: the sum of many small costs equals the cost of the summed tokens', () => {
    const id = DEFAULT_TIER_MODELS.fast;
    let sum = 0;
    for (let i = 1; i <= 1000; i++) sum += costNanoUsd(id, { inputTokens: i, outputTokens: 2 * i });
    expect(sum).toBe(costNanoUsd(id, { inputTokens: 500_500, outputTokens: 1_001_000 }));
  });

  it('scopes an inference profile to its ARN plus the foundation model in every destination region', () => {
    const arns = modelResourceArns(DEFAULT_TIER_MODELS.deep, {
      partition: 'aws',
      region: 'us-east-1',
      account: '111111111111',
    });
    expect(arns).toContain(
      'arn:aws:bedrock:us-east-1:111111111111:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    );
    for (const r of MODELS[DEFAULT_TIER_MODELS.deep]!.destinationRegions) {
      expect(arns).toContain(`arn:aws:bedrock:${r}::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0`);
    }
    expect(arns.some((a) => a.includes('*'))).toBe(false);
  });

  it('refuses a model outside the catalog', () => {
    expect(() => costNanoUsd('gpt-4', { inputTokens: 1, outputTokens: 1 })).toThrow(/Unknown model/);
  });
});
