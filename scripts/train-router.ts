/**
 * `npm run train:router [-- --data FILE] [-- --out FILE]`: trains the learned router and writes
 * lambda/shared/routing/router-model.json. Deterministic (seeded shuffles, hash split), TypeScript
 * only, no network; about ten seconds on two cores.
 *
 * 1. Split the rows by a stable hash of `id` (scripts/routing-eval/data.ts): 70% train, 30% held out. The
 *    held-out rows are never read here beyond being skipped.
 * 2. Featurise prompts only (features.ts); the `category`, `source` and `id` fields are not features.
 * 3. 5-fold cross-validation inside the training part gives an out-of-fold router score for every training
 *    row; `scoreConfidence` scores the weak answers of training rows. On these, `chooseThresholds` picks the
 *    cheapest (deep threshold, confidence threshold) whose router+cascade quality reaches 95% of always-deep.
 * 4. The shipped model is the average of the five fold models (a linear model again). Its scores sit on the
 *    same scale as the out-of-fold scores the thresholds were chosen on; a model refitted on the whole
 *    training part scores more confidently, which would silently shift every threshold.
 * 5. Quantise to int8 and write the model file.
 *
 * Model choice (tried with the same 5-fold out-of-fold protocol on the training part): logistic regression on
 * the soft gain target beat the hard "strong > weak" label; stronger L2 (0.05) beat early stopping; 4-gram
 * characters + word uni/bigrams at 2^13 buckets beat 3-grams and 2^14 buckets by a small margin.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scoreConfidence } from '../lambda/inference/core/confidence';
import { DEFAULT_FEATURE_CONFIG, featureCount } from '../lambda/inference/core/routing/features';
import { ROUTER_MODEL_FORMAT, type RouterModelFile } from '../lambda/inference/core/routing/router';
import { DEFAULT_DATA_FILE, foldOf, loadDataset, SPLIT_RULE, splitOf } from './routing-eval/data';
import { chooseThresholds, round } from './routing-eval/evaluate';
import { DEFAULT_TRAIN_OPTIONS, featurise, predict, quantise, target, trainLogistic } from './routing-eval/train';

const MODEL_FILE = path.resolve(__dirname, '../lambda/shared/routing/router-model.json');
const FOLDS = 5;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function dequantised(weights: Float32Array): Float32Array {
  const q = quantise(weights);
  return Float32Array.from(q.data, (v) => v * q.scale);
}

function main(): void {
  const started = Date.now();
  const dataFile = path.resolve(arg('--data') ?? DEFAULT_DATA_FILE);
  const out = path.resolve(arg('--out') ?? MODEL_FILE);
  const data = loadDataset(dataFile);
  const rows = data.rows.filter((r) => splitOf(r.id) === 'train');
  const cfg = DEFAULT_FEATURE_CONFIG;
  const dims = featureCount(cfg);
  const xs = featurise(rows, cfg);
  const ys = rows.map(target);

  const oof = new Array<number>(rows.length).fill(0.5);
  const avg = new Float32Array(dims);
  let avgBias = 0;
  for (let f = 0; f < FOLDS; f++) {
    const fit = rows.map((_, i) => i).filter((i) => foldOf(rows[i]!.id, FOLDS) !== f);
    const m = trainLogistic(
      fit.map((i) => xs[i]!),
      fit.map((i) => ys[i]!),
      dims,
      DEFAULT_TRAIN_OPTIONS,
    );
    for (let k = 0; k < dims; k++) avg[k]! += m.weights[k]! / FOLDS;
    avgBias += m.bias / FOLDS;
    const mq = { bias: m.bias, weights: dequantised(m.weights) };
    rows.forEach((r, i) => {
      if (foldOf(r.id, FOLDS) === f) oof[i] = predict(mq, xs[i]!);
    });
  }
  const confidences = rows.map((r) =>
    r.weak_response === undefined
      ? undefined
      : scoreConfidence({ prompt: r.prompt, text: r.weak_response, stopReason: 'end_turn' }).confidence,
  );
  const { expected, ...recommended } = chooseThresholds(rows, oof, confidences);

  const model = { bias: avgBias, weights: avg };
  const q = quantise(model.weights);
  const file: RouterModelFile = {
    format: ROUTER_MODEL_FORMAT,
    description:
      'Learned router: logistic regression on hashed word/char n-grams + shape features; score = sigmoid, target (1 + strong − weak quality) / 2. Written by `npm run train:router`; do not edit by hand.',
    features: cfg,
    bias: round(model.bias, 6),
    weights: {
      encoding: 'int8-base64',
      scale: q.scale,
      length: q.data.length,
      data: Buffer.from(q.data.buffer, q.data.byteOffset, q.data.byteLength).toString('base64'),
    },
    trainedOn: {
      file: path.basename(dataFile),
      sha256: data.sha256,
      rows: data.rows.length,
      trainRows: rows.length,
      split: SPLIT_RULE,
    },
    training: {
      ...DEFAULT_TRAIN_OPTIONS,
      folds: FOLDS,
      target: '(1 + strong_quality - weak_quality) / 2',
      model: 'mean of the fold models',
    },
    recommended,
    recommendedBasis: {
      rule: 'cheapest (deepThreshold, confidenceThreshold) whose router+cascade quality reaches 95% of always-deep on 5-fold out-of-fold training predictions; balanced band empty; reviewThreshold: highest confidence below which ≤ 25% of training weak answers were right',
      expectedOnTraining: expected,
    },
  };
  fs.writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `trained on ${rows.length} of ${data.rows.length} rows (${SPLIT_RULE}) in ${secs} s\n` +
      `recommended ${JSON.stringify(recommended)}\nexpected on training (out-of-fold) ${JSON.stringify(expected)}\n` +
      `wrote ${path.relative(process.cwd(), out)} (${fs.statSync(out).size.toLocaleString('en-US')} bytes)`,
  );
}

main();
