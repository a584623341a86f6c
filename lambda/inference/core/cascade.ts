/**
 * The cascade decision after an answer: accept it, re-ask the next stronger allowed tier, or hand it to
 * human review. Pure; the service calls it once per attempt, in a loop, and records every attempt.
 *
 * - confidence ≥ confidenceThreshold → accept, at any tier;
 * - below it, and a stronger allowed tier exists → escalate to the next stronger allowed tier;
 * - at the strongest allowed tier: below reviewThreshold → review, else accept (the best answer we can get
 *   is kept; only a clearly doubtful one costs a person's time).
 *
 * `reviewThreshold` ≤ `confidenceThreshold`; a larger value is treated as equal to `confidenceThreshold`.
 */
import { TIERS, type Tier } from '../../shared/catalog';

/** What the cascade needs to decide about one answer. */
export interface CascadeInput {
  /** The tier that produced the answer. */
  readonly tier: Tier;
  /** The tenant's allowed tiers, cheapest first. */
  readonly allowedTiers: readonly Tier[];
  /** The answer's confidence, 0..1 (`scoreConfidence`). */
  readonly confidence: number;
  readonly confidenceThreshold: number;
  readonly reviewThreshold: number;
}

/** The cascade's decision. */
export type CascadeDecision =
  | { readonly action: 'accept' }
  | { readonly action: 'escalate'; readonly nextTier: Tier; readonly reason: string }
  | { readonly action: 'review'; readonly reason: string };

const fmt = (x: number) => x.toFixed(2);

/** Decides what happens to an answer; see the file header. */
export function cascadeDecision(input: CascadeInput): CascadeDecision {
  const { tier, allowedTiers, confidence, confidenceThreshold } = input;
  if (confidence >= confidenceThreshold) return { action: 'accept' };
  const at = allowedTiers.indexOf(tier);
  // A tier outside the allowed list (an explicit or fallback choice) escalates to the first stronger allowed one.
  const nextTier = at >= 0 ? allowedTiers[at + 1] : allowedTiers.find((t) => TIERS.indexOf(t) > TIERS.indexOf(tier));
  if (nextTier !== undefined) {
    return {
      action: 'escalate',
      nextTier,
      reason: `cascade: confidence ${fmt(confidence)} < ${fmt(confidenceThreshold)} on ${tier} → ${nextTier}`,
    };
  }
  const reviewThreshold = Math.min(input.reviewThreshold, confidenceThreshold);
  if (confidence < reviewThreshold) {
    return {
      action: 'review',
      reason: `cascade: confidence ${fmt(confidence)} < review threshold ${fmt(reviewThreshold)} on ${tier}, the strongest allowed tier → human review`,
    };
  }
  return { action: 'accept' };
}
