/**
 * Router latency in process: `scoreRequest` + `chooseTier` over every prompt of the routing data set, warm
 * (one untimed pass first), each call timed on its own with `performance.now()`. Target: p99 ≤ 0.1 ms.
 */
import { performance } from 'node:perf_hooks';
import { chooseTier, ROUTER_MODEL, scoreRequest } from '../lambda/inference/core/routing/router';
import type { Tier } from '../lambda/shared/catalog';
import { DEFAULT_DATA_FILE, loadDataset } from '../scripts/routing-eval/data';
import { atMost, type Check, percentile, round } from './stats';

export interface RouterBenchResults {
  readonly prompts: number;
  readonly passes: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanPromptChars: number;
  readonly checks: Check[];
}

const ALLOWED: readonly Tier[] = ['fast', 'balanced', 'deep'];

/** Measures routing latency over the data set's prompts (`passes` timed passes after one warm-up pass). */
export function benchRouter(opts: { passes?: number; file?: string } = {}): RouterBenchResults {
  const passes = opts.passes ?? 3;
  const prompts = loadDataset(opts.file ?? DEFAULT_DATA_FILE).rows.map((r) => r.prompt);
  const th = ROUTER_MODEL.recommended;
  let sink = 0;
  for (const p of prompts) sink += chooseTier(scoreRequest(ROUTER_MODEL, p).score, ALLOWED, th).tier.length;
  const times: number[] = [];
  for (let pass = 0; pass < passes; pass++) {
    for (const p of prompts) {
      const t0 = performance.now();
      const choice = chooseTier(scoreRequest(ROUTER_MODEL, p).score, ALLOWED, th);
      times.push(performance.now() - t0);
      sink += choice.tier.length;
    }
  }
  if (sink === 0) throw new Error('router bench: no decisions');
  const p99 = round(percentile(times, 99), 4);
  return {
    prompts: prompts.length,
    passes,
    p50Ms: round(percentile(times, 50), 4),
    p99Ms: p99,
    maxMs: round(Math.max(...times), 4),
    meanPromptChars: Math.round(prompts.reduce((a, p) => a + p.length, 0) / Math.max(1, prompts.length)),
    checks: [atMost('router-p99', 'Router decision p99 (in process, warm)', p99, 0.1, 'ms', '≤ 0.1 ms')],
  };
}
