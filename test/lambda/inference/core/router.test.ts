import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_FEATURE_CONFIG, extractFeatures } from '../../../../lambda/inference/core/routing/features';
import {
  chooseTier,
  defaultRouter,
  loadRouterModel,
  ROUTER_MODEL,
  type RouterModelFile,
  scoreRequest,
} from '../../../../lambda/inference/core/routing/router';
import type { Tier } from '../../../../lambda/shared/catalog';
import { DEFAULT_DATA_FILE, loadDataset, splitOf } from '../../../../scripts/routing-eval/data';

const MODEL_FILE = path.join(__dirname, '../../../../lambda/shared/routing/router-model.json');
const th = { deepThreshold: 0.6, balancedThreshold: 0.5 };
const ALLOWED_SETS: Tier[][] = [
  ['fast', 'balanced', 'deep'],
  ['fast', 'balanced'],
  ['fast', 'deep'],
  ['balanced', 'deep'],
  ['fast'],
  ['deep'],
];
const TIER_RANK: Record<Tier, number> = { fast: 0, balanced: 1, deep: 2 };

describe('scoreRequest', () => {
  it('is deterministic and scores within 0..1', () => {
    const text =
      'Statement 1 | Every group of order 4 is cyclic. Statement 2 | ...\nA. True, True\nB. False, False\nAnswer:';
    const a = scoreRequest(ROUTER_MODEL, text).score;
    expect(scoreRequest(ROUTER_MODEL, text).score).toBe(a);
    expect(defaultRouter.score(text).score).toBe(a);
    for (const t of ['', 'hi', 'x'.repeat(200_000), '🙂'.repeat(1000)]) {
      const s = scoreRequest(ROUTER_MODEL, t).score;
      expect(s).toBeGreaterThan(0);
      expect(s).toBeLessThan(1);
    }
  });

  it('reads only the head and tail of a huge prompt', () => {
    const head = 'q '.repeat(DEFAULT_FEATURE_CONFIG.headChars);
    const tail = 'z '.repeat(DEFAULT_FEATURE_CONFIG.tailChars);
    const small = extractFeatures(`${head}${'m '.repeat(10)}${tail}`);
    const huge = extractFeatures(`${head}${'m '.repeat(500_000)}${tail}`);
    // Same hashed n-grams; only the length-derived features may differ.
    expect(huge.indices.length).toBe(small.indices.length);
  });

  it('ranks requests that need the deep tier above those that do not, on rows it never trained on', () => {
    const rows = loadDataset(DEFAULT_DATA_FILE).rows.filter((r) => splitOf(r.id) === 'held-out');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const gain = mean(
      rows.filter((r) => r.strong_quality > r.weak_quality).map((r) => scoreRequest(ROUTER_MODEL, r.prompt).score),
    );
    const loss = mean(
      rows.filter((r) => r.strong_quality < r.weak_quality).map((r) => scoreRequest(ROUTER_MODEL, r.prompt).score),
    );
    expect(gain).toBeGreaterThan(loss);
  });
});

describe('chooseTier', () => {
  it.each(ALLOWED_SETS)('only ever picks an allowed tier, monotone in the score (%s)', (...allowed) => {
    let prev = -1;
    for (let s = 0; s <= 1.0001; s += 0.01) {
      const { tier } = chooseTier(s, allowed, th);
      expect(allowed).toContain(tier);
      expect(TIER_RANK[tier]).toBeGreaterThanOrEqual(prev);
      prev = TIER_RANK[tier];
    }
  });

  it.each([
    { score: 0.2, allowed: ['fast', 'balanced', 'deep'], tier: 'fast', reason: /score 0\.20 < threshold 0\.50 → fast/ },
    {
      score: 0.55,
      allowed: ['fast', 'balanced', 'deep'],
      tier: 'balanced',
      reason: /score 0\.55 ≥ balanced threshold 0\.50 → balanced/,
    },
    {
      score: 0.71,
      allowed: ['fast', 'balanced', 'deep'],
      tier: 'deep',
      reason: /score 0\.71 ≥ deep threshold 0\.60 → deep/,
    },
    { score: 0.55, allowed: ['fast', 'deep'], tier: 'deep', reason: /balanced not allowed/ },
    { score: 0.71, allowed: ['fast', 'balanced'], tier: 'balanced', reason: /strongest allowed/ },
    { score: 0.2, allowed: ['balanced', 'deep'], tier: 'balanced', reason: /→ balanced/ },
  ] as { score: number; allowed: Tier[]; tier: Tier; reason: RegExp }[])(
    'routes score $score with $allowed to $tier',
    ({ score, allowed, tier, reason }) => {
      const c = chooseTier(score, allowed, th);
      expect(c.tier).toBe(tier);
      expect(c.reason).toMatch(reason);
    },
  );

  it('has no balanced band when both thresholds are equal', () => {
    const equal = { deepThreshold: 0.57, balancedThreshold: 0.57 };
    expect(chooseTier(0.569, ['fast', 'balanced', 'deep'], equal).tier).toBe('fast');
    expect(chooseTier(0.57, ['fast', 'balanced', 'deep'], equal).tier).toBe('deep');
  });
});

describe('router model file', () => {
  const file = JSON.parse(fs.readFileSync(MODEL_FILE, 'utf8')) as RouterModelFile;

  it('is small and carries its provenance and recommended thresholds', () => {
    expect(fs.statSync(MODEL_FILE).size).toBeLessThanOrEqual(16 * 1024);
    expect(file.trainedOn).toMatchObject({ file: 'requests.jsonl', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const r = ROUTER_MODEL.recommended;
    expect(r.balancedThreshold).toBeLessThanOrEqual(r.deepThreshold);
    expect(r.reviewThreshold).toBeLessThanOrEqual(r.confidenceThreshold);
    for (const v of Object.values(r)) expect(v).toBeGreaterThanOrEqual(0);
  });

  it('refuses a file of another format or with the wrong number of weights', () => {
    expect(() => loadRouterModel({ ...file, format: 'other/9' })).toThrow(/format "other\/9"/);
    expect(() => loadRouterModel({ ...file, weights: { ...file.weights, data: 'AAAA' } })).toThrow(
      /expected \d+ int8 values/,
    );
  });
});
