import fc from 'fast-check';
import { inlineArithmeticClaims, type ScanStats } from '../../../../lambda/inference/core/arithmetic-scan';
import { scoreConfidence } from '../../../../lambda/inference/core/confidence';

/**
 * The pattern the scorer used before (it backtracks exponentially on long sums): the oracle the linear scan must
 * agree with, on inputs short enough for it.
 */
const NUM = String.raw`\d[\d,]*(?:\.\d+)?|\.\d+`;
const TERM = String.raw`\(*\s*\$?(?:${NUM})\s*\)*`;
const OP = String.raw`\s*(?:[-+*/x×÷]|\\\*)\s*`;
const EXPR = `${TERM}(?:${OP}${TERM})*`;
const OLD_INLINE = new RegExp(
  String.raw`(?<![\d.,%$]|[-+*/×÷%^]\s*)${EXPR}(?:\s*=\s*-?${EXPR})+(?![\d.,]|\s*[%/(])`,
  'g',
);
const oracle = (s: string) => [...s.matchAll(OLD_INLINE)].map((m) => ({ index: m.index ?? 0, text: m[0] }));

/** Pieces arithmetic-looking text is made of, including what made the old pattern backtrack. */
const PIECE = fc.constantFrom(
  '1',
  '2',
  '43',
  '1,000',
  '.5',
  '3.25',
  ' ',
  '  ',
  '\n',
  '\t',
  '+',
  '-',
  '*',
  '/',
  'x',
  '×',
  '÷',
  '\\*',
  '=',
  ' = ',
  '(',
  ')',
  '$',
  '%',
  '^',
  ',',
  '.',
  'a',
  ' + ',
  '(1 + (2 * ',
);
const text = (max: number) => fc.array(PIECE, { maxLength: max }).map((p) => p.join(''));

describe('inlineArithmeticClaims', () => {
  it('finds exactly what the former pattern found, on generated text (fast-check, 3,000 cases)', () => {
    // Short texts only: the former pattern's time doubles with every space next to an operator.
    fc.assert(
      fc.property(text(12), (s) => {
        expect(inlineArithmeticClaims(s)).toEqual(oracle(s));
      }),
      { seed: 4242, numRuns: 3_000 },
    );
  });

  it.each([
    ['a chained claim', 'So 4 * 125 - 2 = 500 - 2 = 498 in all.'],
    ['claims next to text', 'It covers 42 miles in 10/3 * 42 = 140 minutes, and (38 - 2) x 2 = 72.'],
    ['a percentage after the claim', 'then 2 + 3 = 5 % of it'],
    ['money', 'A 10% discount: $50 - 10% * $50 = $50 - $5 = $45'],
  ])('agrees with the former pattern on %s', (_name, s) => {
    expect(inlineArithmeticClaims(s)).toEqual(oracle(s));
    expect(inlineArithmeticClaims(s).length).toBeGreaterThanOrEqual(0);
  });

  it('reads each character a bounded number of times on generated 200,000-character answers', () => {
    fc.assert(
      fc.property(fc.array(PIECE, { minLength: 1, maxLength: 40 }), (unit) => {
        const s = unit
          .join('')
          .repeat(Math.ceil(200_000 / Math.max(1, unit.join('').length)))
          .slice(0, 200_000);
        const stats: ScanStats = { reads: 0 };
        inlineArithmeticClaims(s, stats);
        expect(stats.reads).toBeLessThanOrEqual(8 * s.length + 8);
      }),
      { seed: 4242, numRuns: 60 },
    );
  });

  it('reads each character a bounded number of times when one piece repeats 200,000 characters long', () => {
    for (const unit of fc.sample(PIECE, { seed: 1, numRuns: 200 })) {
      const s = unit.repeat(Math.ceil(200_000 / unit.length)).slice(0, 200_000);
      const stats: ScanStats = { reads: 0 };
      inlineArithmeticClaims(s, stats);
      expect({ unit, linear: stats.reads <= 8 * s.length + 8 }).toEqual({ unit, linear: true });
    }
  });

  it('handles the answers that took the former pattern 11 s and 40 s (a long sum, nested parentheses)', () => {
    const primes = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43];
    const sum = `the first 14 primes add up as ${primes.join(' + ')} = 281, ${primes.join(' + ')} + `;
    const nested = '(1 + (2 * '.repeat(14);
    for (const s of [sum, nested, sum.repeat(2_000), nested.repeat(10_000)]) {
      const stats: ScanStats = { reads: 0 };
      inlineArithmeticClaims(s, stats);
      expect(stats.reads).toBeLessThanOrEqual(8 * s.length + 8);
    }
    // The same claim as the former pattern would report (leading space, and "281," read as a number), checked
    // against it on the first five primes, where it still finishes.
    const five = `the first 5 primes add up as ${primes.slice(0, 5).join(' + ')} = 28, fine`;
    expect(inlineArithmeticClaims(five)).toEqual(oracle(five));
    expect(inlineArithmeticClaims(sum).map((c) => c.text)).toEqual([` ${primes.join(' + ')} = 281,`]);
  });
});

describe('scoreConfidence on adversarial answers', () => {
  /** Shapes an attacker can make a model write (the prompt steers the answer). */
  const ADVERSARIAL = fc.oneof(
    fc.array(PIECE, { minLength: 1, maxLength: 30 }).map((p) => p.join('')),
    fc.constantFrom(
      '\n',
      '\nconfidence',
      'Confidence: ',
      '"confidence": ',
      'answer: ',
      '#### ',
      '<<2+2=4>>',
      '<<',
      ' ',
      'I think ',
      '1 ',
    ),
  );

  it('never runs away: every generated 200,000-character answer is scored well within a request (hang guard)', () => {
    fc.assert(
      fc.property(fc.array(ADVERSARIAL, { minLength: 1, maxLength: 8 }), (units) => {
        const unit = units.join('') || ' ';
        const answer = unit.repeat(Math.ceil(200_000 / unit.length)).slice(0, 200_000);
        const started = performance.now();
        const r = scoreConfidence({ prompt: 'What is 17 * 23? Then add 5.', text: answer, stopReason: 'end_turn' });
        // The time goal (50 ms) is measured by `npm run bench`; this only proves nothing is super-linear.
        expect(performance.now() - started).toBeLessThan(2_000);
        expect(r.confidence).toBeGreaterThanOrEqual(0);
      }),
      { seed: 4242, numRuns: 40 },
    );
  });

  it('stops checking when the time budget is spent, and does not trust what it could not check', () => {
    let t = 0;
    const r = scoreConfidence({
      prompt: 'What is 2 + 2?',
      text: '2 + 2 = 4. The answer is 4.',
      stopReason: 'end_turn',
      budget: { now: () => (t += 10), deadline: 5 },
    });
    expect(r.signals).toContain('scoring:over-budget');
    expect(r.confidence).toBeLessThanOrEqual(0.5);
  });
});
