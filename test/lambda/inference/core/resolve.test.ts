import { worstCaseNanoUsd } from '../../../../lambda/inference/core/budget';
import { resolveRequest } from '../../../../lambda/inference/core/resolve';
import type { ApiError } from '../../../../lambda/shared/errors';
import type { TenantRuntimeConfig } from '../../../../lambda/shared/tenant-runtime';
import { fakeTenant } from '../../../support/inference-fakes';

/** The fake tenant, with a 100-character prompt limit and the plan guardrail's two policies. */
const config: TenantRuntimeConfig = fakeTenant({
  limits: { maxPromptChars: 100, maxOutputTokens: 500, defaultMaxTokens: 200 },
  guardrail: { source: 'plan', policies: ['content', 'sensitiveInformation'] },
});

function errorOf(fn: () => unknown): ApiError | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e as ApiError;
  }
}

describe('resolveRequest', () => {
  it.each([
    { req: { prompt: 'hi' }, tier: 'fast', reason: /auto/ },
    { req: { prompt: 'hi', tier: 'auto' }, tier: 'fast', reason: /auto/ },
    { req: { prompt: 'hi', tier: 'balanced' }, tier: 'balanced', reason: /explicit/ },
  ])('routes $req.tier to $tier with a reason', ({ req, tier, reason }) => {
    const r = resolveRequest(config, req);
    expect(r.tier).toBe(tier);
    expect(r.modelId).toBe(config.tierModels[r.tier]);
    expect(r.routeReason).toMatch(reason);
  });

  it.each([
    { name: 'unknown tier', req: { prompt: 'hi', tier: 'ultra' }, code: 'unknown_tier', status: 422 },
    { name: 'tier not allowed', req: { prompt: 'hi', tier: 'deep' }, code: 'tier_not_allowed', status: 422 },
    { name: 'prompt too large', req: { prompt: 'x'.repeat(101) }, code: 'prompt_too_large', status: 413 },
    {
      name: 'system counts toward the limit',
      req: { prompt: 'x'.repeat(60), system: 'y'.repeat(41) },
      code: 'prompt_too_large',
      status: 413,
    },
    {
      name: 'maxTokens over the tenant cap',
      req: { prompt: 'hi', maxTokens: 501 },
      code: 'max_tokens_too_large',
      status: 422,
    },
  ])('refuses $name', ({ req, code, status }) => {
    const e = errorOf(() => resolveRequest(config, req));
    expect(e?.code).toBe(code);
    expect(e?.status).toBe(status);
  });

  it('uses the tenant default maxTokens and keeps the messages as given', () => {
    const r = resolveRequest(config, { messages: [{ role: 'user', content: 'a' }], system: 's' });
    expect(r.maxTokens).toBe(200);
    expect(r.messages).toEqual([{ role: 'user', content: 'a' }]);
    expect(r.promptChars).toBe(2);
    expect(r.promptBytes).toBe(2);
  });

  it('bounds input tokens by UTF-8 bytes, so CJK and emoji prompts reserve enough', () => {
    // 4 CJK characters (3 bytes each) and an emoji (2 UTF-16 units, 4 bytes): a byte-level tokenizer may
    // spend up to one token per byte on them, more than the character count.
    const r = resolveRequest(config, { prompt: '契約条項🙂' });
    expect(r.promptChars).toBe(6);
    expect(r.promptBytes).toBe(16);
    expect(worstCaseNanoUsd(r.modelId, r, 100)).toBeGreaterThan(
      worstCaseNanoUsd(r.modelId, { ...r, promptBytes: r.promptChars }, 100),
    );
  });
});
