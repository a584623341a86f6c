/**
 * Confidence scoring on adversarial answers: answers of 200,000 characters built by repeating
 * generated units of the shapes that made the former scorer backtrack (sums, nested parentheses, runs of spaces
 * and newlines, "confidence:" lines, annotations). Each answer is scored once, warm. Target: every answer under
 * 50 ms. The same generator (seeded) runs in the tests as a hang guard.
 */
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { scoreConfidence } from '../lambda/inference/core/confidence';
import { atMost, type Check, percentile, round } from './stats';

export interface ScorerBenchResults {
  readonly answers: number;
  readonly chars: number;
  readonly p50Ms: number;
  readonly maxMs: number;
  readonly slowestUnit: string;
  readonly checks: Check[];
}

const PIECES = [
  '1',
  '43',
  '1,000',
  '.5',
  ' ',
  '  ',
  '\n',
  '+',
  '-',
  '*',
  'x',
  '×',
  '=',
  ' = ',
  '(',
  ')',
  '$',
  '%',
  ' + ',
  '(1 + (2 * ',
  '\nconfidence',
  'Confidence: 0.9',
  'answer: ',
  '#### ',
  '<<2+2=4>>',
  '<<',
  'I think ',
];

/** Scores `answers` generated 200,000-character answers (seeded). */
export function benchScorer(opts: { answers?: number; chars?: number } = {}): ScorerBenchResults {
  const chars = opts.chars ?? 200_000;
  const units = fc.sample(
    fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 12 }).map((p) => p.join('')),
    { seed: 2026, numRuns: opts.answers ?? 200 },
  );
  const times: Array<[number, string]> = [];
  for (const unit of units) {
    const text = unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);
    const input = { prompt: 'A shop sells 17 boxes of 23 pens. How many pens?', text, stopReason: 'end_turn' };
    scoreConfidence(input); // warm
    const t0 = performance.now();
    scoreConfidence(input);
    times.push([performance.now() - t0, unit]);
  }
  const ms = times.map(([t]) => t);
  const slowest = times.reduce((a, b) => (b[0] > a[0] ? b : a));
  const max = round(slowest[0], 2);
  return {
    answers: units.length,
    chars,
    p50Ms: round(percentile(ms, 50), 2),
    maxMs: max,
    slowestUnit: JSON.stringify(slowest[1]),
    checks: [atMost('scorer-max', 'Confidence scoring, slowest generated 200k-char answer', max, 50, 'ms', '< 50 ms')],
  };
}
