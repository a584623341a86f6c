/** The cascade run: accept, escalate, review, and why it stopped where it did. */
import { runCascade } from '../../../../lambda/inference/core/cascade-run';
import { GUARDRAIL_INTERVENED } from '../../../../lambda/inference/core/guardrail';
import type { Answer, CallResult } from '../../../../lambda/inference/core/model-chain';
import { DEFAULT_TIER_MODELS, type Tier } from '../../../../lambda/shared/catalog';
import { fakeTenant } from '../../../support/inference-fakes';

const tenant = fakeTenant();
const ALLOWED: Tier[] = ['fast', 'balanced'];
const answer = (tier: Tier, confidence: number, stopReason = 'end_turn'): Answer => ({
  kind: 'ok',
  tier,
  modelId: DEFAULT_TIER_MODELS[tier],
  reply: { text: 'A', stopReason, inputTokens: 1, outputTokens: 1, latencyMs: 1 },
  confidence,
});
const chainAnswering = (...results: CallResult[]) => {
  const asked: string[] = [];
  return {
    asked,
    tier: async (tier: Tier, reason: string) => {
      asked.push(`${tier}: ${reason}`);
      return results.shift()!;
    },
  };
};

describe('runCascade', () => {
  it('accepts a confident first answer', async () => {
    const end = await runCascade(chainAnswering(), answer('fast', 0.9), tenant, ALLOWED, undefined);
    expect(end).toEqual({
      best: answer('fast', 0.9),
      review: false,
      cascadeReason: 'accepted: confidence 0.9 on fast',
      truncated: false,
    });
  });

  it('escalates an unsure answer to the next stronger allowed tier and keeps the better one', async () => {
    const chain = chainAnswering(answer('balanced', 0.8));
    const end = await runCascade(chain, answer('fast', 0.5), tenant, ALLOWED, undefined);
    expect(chain.asked).toEqual(['balanced: escalation: cascade: confidence 0.50 < 0.60 on fast → balanced']);
    expect(end).toMatchObject({ best: { tier: 'balanced' }, review: false });
  });

  it('sends an answer below the review threshold at the strongest tier to review', async () => {
    const end = await runCascade(chainAnswering(), answer('balanced', 0.2), tenant, ALLOWED, undefined);
    expect(end).toMatchObject({ review: true, cascadeReason: expect.stringMatching(/human review/) });
  });

  it('keeps the answer it has when the stronger tier cannot answer, reviewing it when below the review threshold', async () => {
    const down = chainAnswering({ kind: 'skipped', why: 'budget' });
    const end = await runCascade(down, answer('fast', 0.2), tenant, ALLOWED, undefined);
    expect(end).toMatchObject({ best: { tier: 'fast' }, review: true });
    expect(end.cascadeReason).toBe(
      'escalation to balanced not possible: the budget is near its cap; kept the fast answer, below the review threshold → human review',
    );
  });

  it("neither escalates nor reviews a guardrail's answer or one cut short by the caller's maxTokens", async () => {
    const blocked = await runCascade(
      chainAnswering(),
      answer('fast', 0.1, GUARDRAIL_INTERVENED),
      tenant,
      ALLOWED,
      undefined,
    );
    expect(blocked).toMatchObject({
      review: false,
      truncated: false,
      cascadeReason: expect.stringMatching(/^guardrail intervened/),
    });
    const cut = await runCascade(chainAnswering(), answer('fast', 0.1, 'max_tokens'), tenant, ALLOWED, 20);
    expect(cut).toMatchObject({ review: false, truncated: true, cascadeReason: expect.stringMatching(/^truncated/) });
  });

  it('ends with no answer when the first call had none', async () => {
    expect(
      await runCascade(chainAnswering(), { kind: 'skipped', why: 'deadline' }, tenant, ALLOWED, undefined),
    ).toEqual({
      review: false,
      truncated: false,
    });
  });
});
