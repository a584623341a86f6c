/**
 * Resolves a validated request against the tenant's configuration: which tier and model answer it, with
 * how many output tokens, and whether it fits the tenant's limits. Throws `DomainError`s (the caller's request is refused); pure.
 *
 * Tier `auto` (the default) asks the learned router (`routing/router.ts`) for a score from the request
 * text alone and maps it to an allowed tier with the tenant's thresholds; an explicit tier is honoured if
 * the tenant allows it. The reason string says which happened and why.
 */
import { type InferenceRequest, REQUEST_TIERS } from '../../shared/api-schema';
import { getModel, TIERS, type Tier } from '../../shared/catalog';
import { DomainError } from '../../shared/errors';
import type { TenantRuntimeConfig } from '../../shared/tenant-runtime';
import type { ChatMessage, RouteFn } from './ports';
import { chooseTier } from './routing/router';

/** A request ready to be sent to a model. */
export interface ResolvedRequest {
  readonly tier: Tier;
  readonly modelId: string;
  readonly routeReason: string;
  /** True when the tier was chosen by Switchboard (router or tenant default), not named by the caller. */
  readonly auto: boolean;
  /** The router's score, when the router chose the tier. */
  readonly routerScore?: number;
  /** The output token limit before the model's own cap: a tier or model change re-applies that cap to it. */
  readonly requestedMaxTokens: number;
  readonly maxTokens: number;
  /** The text the router and the confidence scorer read: the last user message. */
  readonly routingText: string;
  readonly system?: string;
  readonly messages: readonly ChatMessage[];
  readonly promptChars: number;
  /**
   * UTF-8 bytes of the messages plus system: an upper bound on the input tokens of any byte-level BPE
   * tokenizer (a token covers at least one byte), also for CJK text and emoji, where one character can
   * be several tokens.
   */
  readonly promptBytes: number;
}

/** Allowed tiers of a tenant, cheapest first. */
export function allowedTiers(config: TenantRuntimeConfig): Tier[] {
  return TIERS.filter((t) => config.tierModels[t] !== undefined);
}

/** The largest `maxTokens` a tier accepts for this tenant. */
export function maxTokensCap(config: TenantRuntimeConfig, modelId: string): number {
  return Math.min(config.limits.maxOutputTokens, getModel(modelId).maxOutputTokens);
}

/** Applies tier, model, token and size rules to a request. */
export function resolveRequest(config: TenantRuntimeConfig, req: InferenceRequest, route?: RouteFn): ResolvedRequest {
  const messages: ChatMessage[] = req.messages
    ? req.messages.map((m) => ({ role: m.role, content: m.content }))
    : [{ role: 'user', content: req.prompt ?? '' }];
  const promptChars = messages.reduce((n, m) => n + m.content.length, 0) + (req.system?.length ?? 0);
  if (promptChars > config.limits.maxPromptChars) {
    throw new DomainError(
      'prompt_too_large',
      `Prompt is ${promptChars} characters (messages plus system); this tenant allows at most ${config.limits.maxPromptChars}`,
    );
  }

  const requested = req.tier ?? 'auto';
  if (!(REQUEST_TIERS as readonly string[]).includes(requested)) {
    throw new DomainError('unknown_tier', `Unknown tier "${requested}"; use one of: ${REQUEST_TIERS.join(', ')}`);
  }
  const allowed = allowedTiers(config);
  const routingText = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  let tier: Tier;
  let routeReason: string;
  let routerScore: number | undefined;
  if (requested === 'auto' && route && config.routing.mode === 'learned') {
    routerScore = route(routingText).score;
    const choice = chooseTier(routerScore, allowed, config.routing);
    tier = choice.tier;
    routeReason = choice.reason;
  } else if (requested === 'auto') {
    tier = config.defaultTier;
    routeReason = `auto: tenant default tier ${tier}`;
  } else {
    tier = requested as Tier;
    if (!allowed.includes(tier)) {
      throw new DomainError(
        'tier_not_allowed',
        `Tier "${tier}" is not enabled for this tenant; allowed tiers: ${allowed.join(', ')}`,
      );
    }
    routeReason = `explicit: caller asked for ${tier}`;
  }
  const modelId = config.tierModels[tier];
  if (!modelId) {
    // The tenant schema guarantees the default tier is allowed; this guards a hand-edited environment.
    throw new DomainError('tier_not_allowed', `Tier "${tier}" has no model configured for this tenant`);
  }

  // An explicit tier is checked against its model's limit; for `auto` only the tenant limit applies and
  // each call is capped at its model's limit (the caller did not pick the model).
  const cap = requested === 'auto' ? config.limits.maxOutputTokens : maxTokensCap(config, modelId);
  const wanted = req.maxTokens ?? Math.min(config.limits.defaultMaxTokens, cap);
  if (wanted > cap) {
    throw new DomainError(
      'max_tokens_too_large',
      requested === 'auto'
        ? `maxTokens ${wanted} exceeds this tenant's limit of ${cap}`
        : `maxTokens ${wanted} exceeds the limit of ${cap} for tier ${tier} on this tenant`,
    );
  }
  const maxTokens = Math.min(wanted, maxTokensCap(config, modelId));
  return {
    tier,
    modelId,
    routeReason,
    auto: requested === 'auto',
    ...(routerScore !== undefined ? { routerScore } : {}),
    requestedMaxTokens: wanted,
    maxTokens,
    system: req.system,
    messages,
    promptChars,
    promptBytes:
      messages.reduce((n, m) => n + Buffer.byteLength(m.content, 'utf8'), 0) +
      Buffer.byteLength(req.system ?? '', 'utf8'),
    routingText,
  };
}
