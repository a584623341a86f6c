/**
 * The evaluation maths shared by `eval-routing` (which feeds it the real router and confidence scores) and
 * `train-router` (which feeds it out-of-fold scores to choose the recommended thresholds).
 *
 * Quality: the data carries the weak model's and the strong model's measured quality per request. An answer
 * from `fast` or `balanced` counts with the weak quality (the data has no third model), from `deep` with the
 * strong quality. qualityShare = Σ quality / Σ strong quality (always-deep = 1).
 *
 * Cost: default catalog prices (`DEFAULT_TIER_MODELS`, `costNanoUsd`), tokens estimated from text length:
 * input = ⌈prompt characters / 4⌉; output = ⌈weak_response characters / 4⌉ where the row has the weak
 * model's answer (GSM8K), else a stated constant of `DEFAULT_OUTPUT_TOKENS`; every tier is assumed to write
 * an answer of the same length. costShare = Σ cost / Σ always-deep cost. A cascade pays for every attempt.
 *
 * Cascade: starts at the router's tier; every answer is scored with `scoreConfidence` and `cascadeDecision`
 * says accept / escalate / review. Only answers whose text the data holds can be scored: the weak model's
 * (GSM8K rows). An answer on `balanced` is the weak model's answer here too (same text, same confidence), so
 * an escalation from fast passes balanced (paying for it) when balanced is allowed. Answers without text
 * (every deep answer; fast/balanced answers on MMLU and MT-Bench) cannot be scored: the decision already
 * taken stands (accepted), which is what the service would do with a confidence it cannot compute… and the
 * honest reading of the data. A review hand-off keeps the final attempt's quality and is counted in
 * `reviewShare`.
 */
import { cascadeDecision } from '../../lambda/inference/core/cascade';
import {
  chooseTier,
  type RecommendedThresholds,
  type RouterThresholds,
} from '../../lambda/inference/core/routing/router';
import { costNanoUsd, DEFAULT_TIER_MODELS, type Tier } from '../../lambda/shared/catalog';
import { type RoutingRow, seededRandom } from './data';

/** Output tokens assumed for a row without an answer text (MMLU: a letter and a short reason; MT-Bench). */
export const DEFAULT_OUTPUT_TOKENS = 200;

/** The tiers the evaluation assumes a tenant allows: the standard and premium plan defaults. */
export const EVAL_ALLOWED_TIERS: readonly Tier[] = ['fast', 'balanced', 'deep'];

/** One strategy's figures. */
export interface StrategySummary {
  readonly qualityShare: number;
  readonly costShare: number;
  readonly deepShare: number;
}

/** What a strategy did with one request. */
interface Outcome {
  readonly quality: number;
  readonly cost: number;
  readonly reachedDeep: boolean;
  readonly review?: boolean;
  readonly attempts?: number;
}

/** Estimated tokens of a row (see the header). */
function estimateTokens(row: RoutingRow): { inputTokens: number; outputTokens: number } {
  return {
    inputTokens: Math.ceil(row.prompt.length / 4),
    outputTokens: row.weak_response !== undefined ? Math.ceil(row.weak_response.length / 4) : DEFAULT_OUTPUT_TOKENS,
  };
}

/** Cost in nano-USD of answering `row` once on `tier` at the default catalog prices. */
function callCost(row: RoutingRow, tier: Tier): number {
  return costNanoUsd(DEFAULT_TIER_MODELS[tier], estimateTokens(row));
}

/** Measured quality of an answer from `tier`. */
function qualityOn(row: RoutingRow, tier: Tier): number {
  return tier === 'deep' ? row.strong_quality : row.weak_quality;
}

function single(row: RoutingRow, tier: Tier): Outcome {
  return { quality: qualityOn(row, tier), cost: callCost(row, tier), reachedDeep: tier === 'deep' };
}

/** Sums outcomes into shares of always-deep. */
export function summarise(rows: readonly RoutingRow[], outcomes: readonly Outcome[]): StrategySummary {
  let q = 0;
  let c = 0;
  let d = 0;
  let qDeep = 0;
  let cDeep = 0;
  rows.forEach((row, i) => {
    const o = outcomes[i]!;
    q += o.quality;
    c += o.cost;
    if (o.reachedDeep) d++;
    qDeep += row.strong_quality;
    cDeep += callCost(row, 'deep');
  });
  return {
    qualityShare: round(qDeep > 0 ? q / qDeep : 0),
    costShare: round(cDeep > 0 ? c / cDeep : 0),
    deepShare: round(rows.length > 0 ? d / rows.length : 0),
  };
}

/** Router decisions for precomputed scores. */
export function routeAll(
  scores: readonly number[],
  thresholds: RouterThresholds,
  allowed = EVAL_ALLOWED_TIERS,
): Tier[] {
  return scores.map((s) => chooseTier(s, allowed, thresholds).tier);
}

/** The router strategy: each row answered once on the routed tier. */
export function routerOutcomes(rows: readonly RoutingRow[], tiers: readonly Tier[]): Outcome[] {
  return rows.map((r, i) => single(r, tiers[i]!));
}

/**
 * The router+cascade strategy. `confidences[i]` is the confidence of row i's weak answer, or undefined when
 * the row has no answer text.
 */
export function cascadeOutcomes(
  rows: readonly RoutingRow[],
  tiers: readonly Tier[],
  confidences: readonly (number | undefined)[],
  thresholds: Pick<RecommendedThresholds, 'confidenceThreshold' | 'reviewThreshold'>,
  allowed = EVAL_ALLOWED_TIERS,
): Outcome[] {
  return rows.map((row, i) => {
    let tier = tiers[i]!;
    let cost = callCost(row, tier);
    let attempts = 1;
    let review = false;
    for (;;) {
      const confidence = tier === 'deep' ? undefined : confidences[i];
      if (confidence === undefined) break; // cannot be scored: the decision taken stands
      const d = cascadeDecision({ tier, allowedTiers: allowed, confidence, ...thresholds });
      if (d.action === 'accept') break;
      if (d.action === 'review') {
        review = true;
        break;
      }
      tier = d.nextTier;
      cost += callCost(row, tier);
      attempts++;
    }
    return { quality: qualityOn(row, tier), cost, reachedDeep: tier === 'deep', review, attempts };
  });
}

/** Always-fast / always-deep. */
export function fixedOutcomes(rows: readonly RoutingRow[], tier: Tier): Outcome[] {
  return rows.map((r) => single(r, tier));
}

/** Random routing: exactly round(share × rows) rows, chosen by a seeded shuffle, go deep; the rest fast. */
export function randomOutcomes(rows: readonly RoutingRow[], deepShare: number, seed = 20240917): Outcome[] {
  const rand = seededRandom(seed);
  const order = rows.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const deep = new Set(order.slice(0, Math.round(deepShare * rows.length)));
  return rows.map((r, i) => single(r, deep.has(i) ? 'deep' : 'fast'));
}

/** Share of outcomes handed to review. */
export function reviewShare(outcomes: readonly Outcome[]): number {
  return round(outcomes.length ? outcomes.filter((o) => o.review).length / outcomes.length : 0);
}

/** Deep thresholds for the printed curve. */
export const CURVE_THRESHOLDS: readonly number[] = Array.from({ length: 25 }, (_, i) => round(0.5 + i * 0.005, 3));

/** Router-only figures for each deep threshold (no balanced band), for the quality/cost curve. */
export function routerCurve(
  rows: readonly RoutingRow[],
  scores: readonly number[],
  thresholds: readonly number[] = CURVE_THRESHOLDS,
): ({ threshold: number } & StrategySummary)[] {
  return thresholds.map((t) => ({
    threshold: t,
    ...summarise(rows, routerOutcomes(rows, routeAll(scores, { deepThreshold: t, balancedThreshold: t }))),
  }));
}

/**
 * Chooses recommended thresholds from (out-of-fold) scores and confidences: the cheapest setting of
 * (deepThreshold, confidenceThreshold) whose router+cascade quality reaches `qualityTarget` of always-deep.
 * The balanced band is left empty (balancedThreshold = deepThreshold): the data measures two models and
 * scores a balanced answer as the weak model's, so a band could only add cost here. reviewThreshold: the next 0.05 step above the
 * highest confidence at or below which at most `reviewMaxAccuracy` of the weak answers were right (a review
 * hand-off should mostly catch wrong answers), capped at confidenceThreshold.
 */
export function chooseThresholds(
  rows: readonly RoutingRow[],
  scores: readonly number[],
  confidences: readonly (number | undefined)[],
  opts: { qualityTarget?: number; reviewMaxAccuracy?: number } = {},
): RecommendedThresholds & { expected: StrategySummary } {
  const target = opts.qualityTarget ?? 0.95;
  const grid = [...new Set(scores.map((s) => round(s, 3)))].sort((a, b) => a - b);
  const confGrid = Array.from({ length: 21 }, (_, i) => round(i * 0.05));
  let best: { deep: number; conf: number; s: StrategySummary } | undefined;
  for (const conf of confGrid) {
    // Quality falls as the deep threshold rises: binary-search the highest threshold that meets the target.
    let lo = 0;
    let hi = grid.length - 1;
    let found: { deep: number; s: StrategySummary } | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const t = grid[mid]!;
      const tiers = routeAll(scores, { deepThreshold: t, balancedThreshold: t });
      const s = summarise(
        rows,
        cascadeOutcomes(rows, tiers, confidences, { confidenceThreshold: conf, reviewThreshold: 0 }),
      );
      if (s.qualityShare >= target) {
        found = { deep: t, s };
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found && (!best || found.s.costShare < best.s.costShare)) best = { deep: found.deep, conf, s: found.s };
  }
  const chosen = best ?? { deep: 0, conf: 0, s: { qualityShare: 1, costShare: 1, deepShare: 1 } };
  const maxAcc = opts.reviewMaxAccuracy ?? 0.25;
  const scored = rows
    .map((row, i) => ({ c: confidences[i], right: row.weak_quality >= 0.5 }))
    .filter((x): x is { c: number; right: boolean } => x.c !== undefined)
    .sort((a, b) => a.c - b.c);
  // The largest observed confidence c such that answers at or below c were right at most maxAcc of the time;
  // the threshold is the next 0.05 step above it (so exactly those answers fall below it).
  let review = 0;
  let right = 0;
  scored.forEach((x, k) => {
    if (x.right) right++;
    const last = k === scored.length - 1 || scored[k + 1]!.c !== x.c;
    if (last && right / (k + 1) <= maxAcc) review = round(Math.floor(x.c / 0.05 + 1) * 0.05, 2);
  });
  review = Math.min(review, chosen.conf);
  return {
    deepThreshold: chosen.deep,
    balancedThreshold: chosen.deep,
    confidenceThreshold: chosen.conf,
    reviewThreshold: review,
    expected: chosen.s,
  };
}

export function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
