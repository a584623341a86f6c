/**
 * Resolves a validated request against the tenant's configuration: which tier and model answer it, with
 * how many output tokens, and whether it fits the tenant's limits. Throws 4xx `ApiError`s; pure.
 */
import { type InferenceRequest, REQUEST_TIERS } from '../../shared/api-schema';
import { getModel, TIERS, type Tier } from '../../shared/catalog';
import { ApiError } from '../../shared/errors';
import type { TenantRuntimeConfig } from '../../shared/tenant-runtime';
import type { ChatMessage } from './ports';

/** A request ready to be sent to a model. */
export interface ResolvedRequest {
  readonly tier: Tier;
  readonly modelId: string;
  readonly routeReason: string;
  readonly maxTokens: number;
  readonly system?: string;
  readonly messages: readonly ChatMessage[];
  readonly promptChars: number;
}

/** Allowed tiers of a tenant, cheapest first. */
export function allowedTiers(config: TenantRuntimeConfig): Tier[] {
  return TIERS.filter((t) => config.tierModels[t] !== undefined);
}

/** Applies tier, model, token and size rules to a request. */
export function resolveRequest(config: TenantRuntimeConfig, req: InferenceRequest): ResolvedRequest {
  const messages: ChatMessage[] = req.messages
    ? req.messages.map((m) => ({ role: m.role, content: m.content }))
    : [{ role: 'user', content: req.prompt ?? '' }];
  const promptChars = messages.reduce((n, m) => n + m.content.length, 0) + (req.system?.length ?? 0);
  if (promptChars > config.limits.maxPromptChars) {
    throw new ApiError(
      'prompt_too_large',
      `Prompt is ${promptChars} characters (messages plus system); this tenant allows at most ${config.limits.maxPromptChars}`,
    );
  }

  const requested = req.tier ?? 'auto';
  if (!(REQUEST_TIERS as readonly string[]).includes(requested)) {
    throw new ApiError('unknown_tier', `Unknown tier "${requested}"; use one of: ${REQUEST_TIERS.join(', ')}`);
  }
  const allowed = allowedTiers(config);
  let tier: Tier;
  let routeReason: string;
  if (requested === 'auto') {
    tier = config.defaultTier;
    routeReason = `auto: tenant default tier ${tier}`;
  } else {
    tier = requested as Tier;
    if (!allowed.includes(tier)) {
      throw new ApiError(
        'tier_not_allowed',
        `Tier "${tier}" is not enabled for this tenant; allowed tiers: ${allowed.join(', ')}`,
      );
    }
    routeReason = `explicit: caller asked for ${tier}`;
  }
  const modelId = config.tierModels[tier];
  if (!modelId) {
    // The tenant schema guarantees the default tier is allowed; this guards a hand-edited environment.
    throw new ApiError('tier_not_allowed', `Tier "${tier}" has no model configured for this tenant`);
  }

  const modelMax = getModel(modelId).maxOutputTokens;
  const cap = Math.min(config.limits.maxOutputTokens, modelMax);
  const maxTokens = req.maxTokens ?? Math.min(config.limits.defaultMaxTokens, cap);
  if (maxTokens > cap) {
    throw new ApiError(
      'max_tokens_too_large',
      `maxTokens ${maxTokens} exceeds the limit of ${cap} for tier ${tier} on this tenant`,
    );
  }
  return { tier, modelId, routeReason, maxTokens, system: req.system, messages, promptChars };
}
