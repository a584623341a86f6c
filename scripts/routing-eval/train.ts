/**
 * Training maths for the learned router: sparse logistic regression with per-coordinate AdaGrad and L2,
 * seeded so every run gives the same model, and int8 quantisation of the weights for shipping.
 *
 * The target is soft: y = (1 + strong_quality − weak_quality) / 2, so the model's sigmoid output estimates
 * (1 + expected quality gain of the deep tier) / 2. Rows where the strong model is better pull towards 1,
 * rows where the weak model is better pull towards 0, and rows where both agree (both right, both wrong)
 * sit at 0.5: they carry no routing information and the loss treats them so. Ranking by this score is
 * ranking by expected gain, which is exactly what a cost/quality threshold needs.
 */
import {
  extractFeatures,
  type FeatureConfig,
  featureCount,
  type SparseFeatures,
} from '../../lambda/inference/core/routing/features';
import type { RoutingRow } from './data';
import { seededRandom } from './data';

/** Knobs of one training run. */
export interface TrainOptions {
  readonly epochs: number;
  readonly learningRate: number;
  /** L2 penalty per example step. */
  readonly l2: number;
  readonly seed: number;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = { epochs: 12, learningRate: 0.1, l2: 0.05, seed: 42 };

/** A trained linear model in full precision. */
export interface LinearModel {
  readonly bias: number;
  readonly weights: Float32Array;
}

/** The soft routing target of a row (see the header). */
export function target(row: RoutingRow): number {
  return Math.min(1, Math.max(0, (1 + row.strong_quality - row.weak_quality) / 2));
}

/** Features of every row's prompt. */
export function featurise(rows: readonly RoutingRow[], cfg: FeatureConfig): SparseFeatures[] {
  return rows.map((r) => extractFeatures(r.prompt, cfg));
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Fits logistic regression on soft targets. */
export function trainLogistic(
  xs: readonly SparseFeatures[],
  ys: readonly number[],
  dims: number,
  opts: TrainOptions = DEFAULT_TRAIN_OPTIONS,
): LinearModel {
  const w = new Float64Array(dims);
  const g2 = new Float64Array(dims).fill(1e-8);
  let bias = 0;
  let g2b = 1e-8;
  // Start the bias at the mean target, so early epochs learn features rather than the base rate.
  const mean = ys.reduce((a, b) => a + b, 0) / Math.max(1, ys.length);
  bias = Math.log(mean / (1 - mean));
  const rand = seededRandom(opts.seed);
  const order = xs.map((_, i) => i);
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const r of order) {
      const x = xs[r]!;
      let z = bias;
      for (let k = 0; k < x.indices.length; k++) z += w[x.indices[k]!]! * x.values[k]!;
      const err = sigmoid(z) - ys[r]!;
      for (let k = 0; k < x.indices.length; k++) {
        const f = x.indices[k]!;
        const g = err * x.values[k]! + opts.l2 * w[f]!;
        g2[f]! += g * g;
        w[f]! -= (opts.learningRate * g) / Math.sqrt(g2[f]!);
      }
      g2b += err * err;
      bias -= (opts.learningRate * err) / Math.sqrt(g2b);
    }
  }
  return { bias, weights: Float32Array.from(w) };
}

/** The model's raw score (sigmoid output, 0..1) for one feature vector. */
export function predict(model: LinearModel, x: SparseFeatures): number {
  let z = model.bias;
  for (let k = 0; k < x.indices.length; k++) z += model.weights[x.indices[k]!]! * x.values[k]!;
  return sigmoid(z);
}

/** int8 weights and the scale that restores them (w ≈ q × scale). */
export interface QuantisedWeights {
  readonly scale: number;
  readonly data: Int8Array;
}

/** Symmetric int8 quantisation: scale = max|w| / 127. */
export function quantise(weights: Float32Array): QuantisedWeights {
  let max = 0;
  for (const v of weights) max = Math.max(max, Math.abs(v));
  const scale = max > 0 ? max / 127 : 1;
  const data = new Int8Array(weights.length);
  for (let i = 0; i < weights.length; i++) data[i] = Math.max(-127, Math.min(127, Math.round(weights[i]! / scale)));
  return { scale, data };
}

export { featureCount };
