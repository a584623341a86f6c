/**
 * The learned router: scores a request text (the probability-like chance that the deep tier answers it
 * better than the fast one) and turns the score into a tier with a human-readable reason. Pure, no I/O;
 * scoring costs a few microseconds (`npm run bench`, section `router`).
 *
 * The model is a logistic regression over hashed n-gram and shape features (`features.ts`), trained offline
 * by `npm run train:router` (scripts/train-router.ts) on labelled requests and shipped as
 * `router-model.json`: int8 weights in base64 plus one scale, so the file stays small in the bundle. The
 * score is the sigmoid of the linear score. It was trained on the soft target (1 + strong − weak quality) / 2,
 * so 0.5 means "no expected gain from the deep tier", and higher scores mean a larger expected gain.
 *
 * `chooseTier` maps a score onto the tenant's allowed tiers with two thresholds (tenant configuration;
 * the model file carries recommended defaults chosen on training data only):
 * - score ≥ deepThreshold → the strongest allowed tier;
 * - score ≥ balancedThreshold → `balanced` when allowed, else the nearest allowed tier above it, else below;
 * - otherwise → the cheapest allowed tier.
 */
import type { Tier } from '../../../shared/catalog';
import modelJson from '../../../shared/routing/router-model.json';
import { DEFAULT_FEATURE_CONFIG, dotFeatures, type FeatureConfig, featureCount } from './features';

/** The model file's format tag; a file with another tag is refused at load. */
export const ROUTER_MODEL_FORMAT = 'switchboard-router/1';

/** Thresholds that turn a router score into a tier. */
export interface RouterThresholds {
  /** Scores at or above go to the strongest allowed tier. */
  readonly deepThreshold: number;
  /** Scores at or above (and below deepThreshold) go to `balanced`. Equal to deepThreshold: no balanced band. */
  readonly balancedThreshold: number;
}

/** Thresholds recommended with a model (chosen on its training data, see the model file). */
export interface RecommendedThresholds extends RouterThresholds {
  /** Cascade: below this answer confidence, re-ask the next stronger allowed tier. */
  readonly confidenceThreshold: number;
  /** Cascade: below this confidence at the strongest allowed tier, hand the answer to human review. */
  readonly reviewThreshold: number;
}

/** The model file as stored (`router-model.json`). */
export interface RouterModelFile {
  readonly format: string;
  readonly description?: string;
  readonly features: FeatureConfig;
  readonly bias: number;
  readonly weights: {
    readonly encoding: 'int8-base64';
    readonly scale: number;
    readonly length: number;
    readonly data: string;
  };
  readonly trainedOn: {
    readonly file: string;
    readonly sha256: string;
    readonly rows: number;
    readonly trainRows: number;
    readonly split: string;
  };
  readonly recommended: RecommendedThresholds;
  readonly [extra: string]: unknown;
}

/** A model ready to score: decoded weights. */
export interface RouterModel {
  readonly features: FeatureConfig;
  readonly bias: number;
  readonly weights: Float32Array;
  readonly recommended: RecommendedThresholds;
  readonly trainedOn: RouterModelFile['trainedOn'];
}

/** A router score. */
export interface RouterScore {
  /** 0..1: how much the deep tier is expected to help (0.5 = no expected gain). */
  readonly score: number;
}

/** A routing decision. */
export interface TierChoice {
  readonly tier: Tier;
  readonly reason: string;
}

/** Decodes a model file; throws naming what is wrong. */
export function loadRouterModel(file: RouterModelFile): RouterModel {
  if (file.format !== ROUTER_MODEL_FORMAT) {
    throw new Error(`Router model format "${file.format}" is not supported; expected "${ROUTER_MODEL_FORMAT}"`);
  }
  const features = { ...DEFAULT_FEATURE_CONFIG, ...file.features };
  const expected = featureCount(features);
  const bytes = atob(file.weights.data);
  if (file.weights.encoding !== 'int8-base64' || bytes.length !== expected || file.weights.length !== expected) {
    throw new Error(`Router model weights: expected ${expected} int8 values in base64, got ${bytes.length}`);
  }
  const weights = new Float32Array(expected);
  for (let i = 0; i < expected; i++) {
    const b = bytes.charCodeAt(i);
    weights[i] = (b > 127 ? b - 256 : b) * file.weights.scale;
  }
  return { features, bias: file.bias, weights, recommended: file.recommended, trainedOn: file.trainedOn };
}

/** The model shipped in the bundle. */
export const ROUTER_MODEL: RouterModel = loadRouterModel(modelJson as RouterModelFile);

/** Scores a request text with `model`. Deterministic; bounded work whatever the text length. */
export function scoreRequest(model: RouterModel, text: string): RouterScore {
  const z = model.bias + dotFeatures(text, model.features, model.weights);
  return { score: 1 / (1 + Math.exp(-z)) };
}

/** The shipped router: the shipped model with its recommended thresholds. */
export const defaultRouter = {
  model: ROUTER_MODEL,
  thresholds: ROUTER_MODEL.recommended,
  score: (text: string): RouterScore => scoreRequest(ROUTER_MODEL, text),
} as const;

const fmt = (x: number) => x.toFixed(2);

/**
 * Picks a tier for `score` among `allowedTiers` (cheapest first, non-empty). See the file header for the
 * rule; the reason names the score, the threshold it crossed or missed, and any substitution.
 */
export function chooseTier(score: number, allowedTiers: readonly Tier[], thresholds: RouterThresholds): TierChoice {
  if (allowedTiers.length === 0) throw new Error('chooseTier: no allowed tiers');
  const cheapest = allowedTiers[0]!;
  const strongest = allowedTiers[allowedTiers.length - 1]!;
  const s = fmt(score);
  if (score >= thresholds.deepThreshold) {
    const note = strongest === 'deep' ? '' : ` (strongest allowed)`;
    return {
      tier: strongest,
      reason: `router: score ${s} ≥ deep threshold ${fmt(thresholds.deepThreshold)} → ${strongest}${note}`,
    };
  }
  if (score >= thresholds.balancedThreshold) {
    const head = `router: score ${s} ≥ balanced threshold ${fmt(thresholds.balancedThreshold)}`;
    if (allowedTiers.includes('balanced')) return { tier: 'balanced', reason: `${head} → balanced` };
    // Not allowed: prefer the nearest stronger allowed tier (quality first), else the strongest below.
    const tier = allowedTiers.includes('deep') ? 'deep' : strongest;
    return { tier, reason: `${head} → ${tier} (balanced not allowed)` };
  }
  const below = Math.min(thresholds.balancedThreshold, thresholds.deepThreshold);
  return { tier: cheapest, reason: `router: score ${s} < threshold ${fmt(below)} → ${cheapest}` };
}
