/**
 * The cascade run: from the first answer, re-ask stronger tiers while the answer looks unsure (`cascade.ts`
 * decides each step), and say whether the final answer goes to human review, and why the cascade stopped.
 */
import type { Tier } from '../../shared/catalog';
import type { TenantRuntimeConfig } from '../../shared/tenant-runtime';
import { cascadeDecision } from './cascade';
import { isGuardrailFinal } from './guardrail';
import { type Answer, type CallResult, type ModelChain, SKIP_REASONS } from './model-chain';
import { maxTokensCap } from './resolve';
import { cutShortByCaller } from './truncation';

/** Where the cascade ended. */
export interface CascadeEnd {
  /** The answer kept (none when no model answered). */
  readonly best?: Answer;
  /** The answer needs human review before anyone may see it. */
  readonly review: boolean;
  readonly cascadeReason?: string;
  /** The answer stopped at the caller's own `maxTokens`. */
  readonly truncated: boolean;
}

/** Runs the cascade from `first`; `requestedMaxTokens` is the caller's `maxTokens`, if they set one. */
export async function runCascade(
  chain: Pick<ModelChain, 'tier'>,
  first: CallResult,
  tenant: TenantRuntimeConfig,
  allowed: readonly Tier[],
  requestedMaxTokens: number | undefined,
): Promise<CascadeEnd> {
  let best = first.kind === 'ok' ? first : undefined;
  while (best) {
    // The guardrail's answer is final: a stronger model meets the same guardrail, a reviewer would see what it withheld.
    if (isGuardrailFinal(best.reply)) {
      const cascadeReason = `guardrail intervened on ${best.tier}: its answer is final (no escalation, no review)`;
      return { best, review: false, cascadeReason, truncated: false };
    }
    // Cut short by the caller's own maxTokens: what they asked for; not escalated, not reviewed.
    if (
      cutShortByCaller({
        requestedMaxTokens,
        stopReason: best.reply.stopReason,
        modelCap: maxTokensCap(tenant, best.modelId),
      })
    ) {
      const cascadeReason = `truncated: the answer reached the caller's maxTokens (${requestedMaxTokens}) on ${best.tier}; returned as it is, not escalated or reviewed`;
      return { best, review: false, cascadeReason, truncated: true };
    }
    const decision = cascadeDecision({
      tier: best.tier,
      allowedTiers: allowed,
      confidence: best.confidence,
      confidenceThreshold: tenant.escalation.confidenceThreshold,
      reviewThreshold: tenant.escalation.reviewThreshold,
    });
    if (decision.action === 'accept') {
      return {
        best,
        review: false,
        cascadeReason: `accepted: confidence ${best.confidence} on ${best.tier}`,
        truncated: false,
      };
    }
    if (decision.action === 'review') return { best, review: true, cascadeReason: decision.reason, truncated: false };
    const next = await chain.tier(decision.nextTier, `escalation: ${decision.reason}`, 'near-cap');
    if (next.kind === 'ok') {
      best = next;
      continue;
    }
    // The stronger tier could not answer (down, no time, no budget): the best answer so far stands.
    const why =
      next.kind === 'skipped'
        ? next.why === 'budget'
          ? 'the budget is near its cap'
          : SKIP_REASONS[next.why]
        : `${decision.nextTier} failed (${next.error.errorName})`;
    const review = best.confidence < tenant.escalation.reviewThreshold;
    const cascadeReason = `escalation to ${decision.nextTier} not possible: ${why}; kept the ${best.tier} answer${review ? ', below the review threshold → human review' : ''}`;
    return { best, review, cascadeReason, truncated: false };
  }
  return { review: false, truncated: false };
}
