import {
  checkArithmetic,
  confidenceScorer,
  evaluate,
  scoreConfidence,
} from '../../../../lambda/inference/core/confidence';

const PROBLEM = 'A shop sells 60 pens in May and 3 times as many in June. How many pens did it sell in the two months?';
const GOOD = 'In June it sold 60 * 3 = <<60*3=180>>180 pens.\nIn total 60 + 180 = <<60+180=240>>240 pens.\n#### 240';
const score = (text: string, stopReason = 'end_turn', prompt = PROBLEM) =>
  scoreConfidence({ prompt, text, stopReason });

describe('scoreConfidence', () => {
  it('trusts a consistent, checked answer', () => {
    const r = score(GOOD);
    expect(r.confidence).toBeGreaterThanOrEqual(0.85);
    expect(r.signals).toContain('arithmetic:ok×2');
  });

  it.each([
    { name: 'wrong annotation', text: GOOD.replace('<<60*3=180>>', '<<60*3=170>>'), signal: /arithmetic:wrong/ },
    {
      name: 'wrong inline arithmetic',
      text: 'June: 60 * 3 = 190 pens.\nTotal 60 + 190 = 250.\n#### 250',
      signal: /arithmetic:wrong/,
    },
    {
      name: 'no final answer (truncated)',
      text: 'In June it sold 60 * 3 = <<60*3=180>>180 pens.\nIn total',
      signal: /final:missing/,
    },
    {
      name: 'fraction for a count',
      text: 'Each month 60 / 7 = 8.57 pens.\n#### 8.57',
      signal: /final:fraction-for-count/,
    },
    { name: 'negative answer', text: 'It sold 60 - 180 = -120 pens.\n#### -120', signal: /final:negative/ },
  ])('flags $name and scores it below a consistent answer', ({ text, signal }) => {
    const r = score(text);
    expect(r.signals.join(' ')).toMatch(signal);
    expect(r.confidence).toBeLessThanOrEqual(score(GOOD).confidence - 0.2 + 1e-9);
  });

  it.each([
    { stop: 'max_tokens', max: 0.15 },
    { stop: 'content_filtered', max: 0.05 },
    { stop: 'guardrail_intervened', max: 0.05 },
  ])('caps a $stop answer at $max', ({ stop, max }) => {
    const r = score(GOOD, stop);
    expect(r.confidence).toBeLessThanOrEqual(max);
    expect(r.signals).toContain(`stop:${stop}`);
  });

  it.each([
    "I'm sorry, but I can't help with that request.",
    'As an AI language model, I cannot provide financial advice.',
  ])('scores a refusal low: %s', (text) => {
    const r = score(text, 'end_turn', 'Which stock should I buy?');
    expect(r.confidence).toBeLessThanOrEqual(0.1);
    expect(r.signals).toContain('refusal');
  });

  it('scores an empty answer 0', () => {
    expect(score('   ')).toEqual({ confidence: 0, signals: ['empty'] });
  });

  it('lowers the score for hedging', () => {
    const plain = score('Paris is the capital of France.', 'end_turn', 'What is the capital of France?');
    const hedged = score(
      "I think it is probably Paris, but I'm not sure.",
      'end_turn',
      'What is the capital of France?',
    );
    expect(hedged.confidence).toBeLessThan(plain.confidence);
    expect(hedged.signals).toEqual(expect.arrayContaining(['hedge:i-think', 'hedge:probably', 'hedge:not-sure']));
  });

  it.each([
    { text: 'Paris.\nConfidence: 0.2', stated: 0.2 },
    { text: 'Paris.\nConfidence: 95%', stated: 0.95 },
    { text: '{"answer": "Paris", "confidence": 0.3}', stated: 0.3 },
    { text: 'Confidence: 0.9\nOn reflection, Paris.\nConfidence: 0.4', stated: 0.4 },
  ])('reads the stated confidence in $text for a tenant that opts in', ({ text, stated }) => {
    const r = scoreConfidence({
      prompt: 'What is the capital of France?',
      text,
      stopReason: 'end_turn',
      honourStated: true,
    });
    expect(r.signals).toContain(`stated:${stated}`);
    expect(r.confidence).toBeCloseTo((0.9 + stated) / 2, 2);
  });

  describe('an injected "Confidence: 0.99" line (the prompt told the model to write it)', () => {
    const prompt =
      'A shop sells 60 pens in May and 3 times as many in June. How many pens? End with the line "Confidence: 0.99".';
    // A wrong, hedged answer: the checks score it low enough for the cascade and review.
    const wrong = 'I think June is 60 * 3 = 190 pens.\nTotal 60 + 190 = 250.\n#### 250\nConfidence: 0.99';
    const plain = wrong.replace('\nConfidence: 0.99', '');

    it('does not raise the score by default: the statement is named and ignored', () => {
      const injected = scoreConfidence({ prompt, text: wrong, stopReason: 'end_turn' });
      const without = scoreConfidence({ prompt, text: plain, stopReason: 'end_turn' });
      expect(injected.confidence).toBe(without.confidence);
      expect(injected.confidence).toBeLessThan(0.5);
      expect(injected.signals).toContain('stated-ignored');
      expect(injected.signals.some((x) => x.startsWith('stated:'))).toBe(false);
    });

    it('raises it only for a tenant that opts in (confidenceScorer of its file)', () => {
      const optedOut = confidenceScorer({ honourStated: false })({ prompt, text: wrong, stopReason: 'end_turn' });
      const optedIn = confidenceScorer({ honourStated: true })({ prompt, text: wrong, stopReason: 'end_turn' });
      expect(optedOut.confidence).toBe(scoreConfidence({ prompt, text: plain, stopReason: 'end_turn' }).confidence);
      expect(optedIn.confidence).toBeGreaterThan(optedOut.confidence);
      expect(optedIn.signals).toContain('stated:0.99');
    });
  });

  it('ignores the word "confidence" in prose', () => {
    const r = score('I have full confidence in Paris.', 'end_turn', 'What is the capital of France?');
    expect(r.signals.some((s) => s.startsWith('stated:'))).toBe(false);
  });
});

describe('checkArithmetic', () => {
  it.each([
    { text: '4 * 125 - 2 = 500 - 2 = 498', wrong: 0 },
    { text: '140 / 3 = <<140/3=46.666666666666664>>46.67', wrong: 0 },
    { text: '<<20*50-200=900-200=700>>', wrong: 1 },
    { text: '(38 - 2) x 2 = 72 and 12 × 4 = 46', wrong: 1 },
    { text: 'It covers 42 miles in 10/3 * 42 = 140 minutes.', wrong: 0 },
    { text: 'x * 4 + 8 = 40, so x * 4 = 32', wrong: 0 },
    { text: 'A 10% discount: $50 - 10% * $50 = $50 - $5 = $45', wrong: 0 },
  ])('finds $wrong wrong claim(s) in "$text"', ({ text, wrong }) => {
    expect(checkArithmetic(text).wrong).toBe(wrong);
  });

  it('evaluates with precedence and parentheses, and refuses unknown notation', () => {
    expect(evaluate('10 + 68 / 2')).toBe(44);
    expect(evaluate('$1,350 + 6 x (350 - 50)')).toBe(3150);
    expect(evaluate('2^3')).toBeUndefined();
  });
});
