/**
 * The review copy of a request's input is bounded (DynamoDB items hold at most 400 KB): generated inputs of
 * every size and script, up to the API's largest prompt.
 */
import fc from 'fast-check';
import { API_LIMITS, isWellFormedText } from '../../../lambda/shared/api-schema';
import { boundReviewInput, MAX_REVIEW_INPUT_BYTES, utf8Bytes } from '../../../lambda/shared/review-schema';

const SEED = Number(process.env.FC_SEED ?? 20261202);
const MARKER = /\n\[… (\d+) characters left out of the review copy …\]\n/;

/** Text made of runs of 1-, 2-, 3- and 4-byte characters (so cuts meet every UTF-8 width and surrogate pairs). */
const text = (maxRuns: number) =>
  fc
    .array(fc.tuple(fc.constantFrom('a', 'é', '字', '😀', ' ', '\n'), fc.integer({ min: 1, max: 40_000 })), {
      minLength: 1,
      maxLength: maxRuns,
    })
    .map((runs) =>
      runs
        .map(([c, n]) => c.repeat(n))
        .join('')
        .slice(0, API_LIMITS.maxPromptChars),
    )
    .filter(isWellFormedText);

const input = fc.record(
  {
    system: text(2),
    messages: fc.array(fc.record({ role: fc.constantFrom('user', 'assistant'), content: text(6) }), {
      minLength: 1,
      maxLength: 8,
    }),
  },
  { requiredKeys: ['messages'] },
);

const bytesOf = (i: { system?: string; messages: ReadonlyArray<{ content: string }> }) =>
  utf8Bytes(i.system ?? '') + i.messages.reduce((a, m) => a + utf8Bytes(m.content), 0);

describe('review copy of a request (boundReviewInput)', () => {
  it('fits the bound, keeps every text well-formed with its start and end, and counts exactly what it left out', () => {
    fc.assert(
      fc.property(input, fc.integer({ min: 4_096, max: MAX_REVIEW_INPUT_BYTES }), (original, maxBytes) => {
        const copy = boundReviewInput(original, maxBytes);
        const texts = [
          ...(original.system !== undefined ? [[original.system, copy.system] as const] : []),
          ...original.messages.map((m, i) => [m.content, copy.messages[i]?.content] as const),
        ];
        expect(copy.messages.map((m) => m.role)).toEqual(original.messages.map((m) => m.role));
        // Markers take a few bytes each beyond the texts' shares.
        expect(bytesOf(copy)).toBeLessThanOrEqual(maxBytes + 64 * texts.length);
        let omitted = 0;
        for (const [before, after] of texts) {
          expect(typeof after).toBe('string');
          expect(isWellFormedText(after!)).toBe(true);
          const m = MARKER.exec(after!);
          if (!m) {
            expect(after).toBe(before);
            continue;
          }
          const [head, tail] = [after!.slice(0, m.index), after!.slice(m.index + m[0].length)];
          expect(before.startsWith(head) && before.endsWith(tail)).toBe(true);
          expect(head.length + Number(m[1]) + tail.length).toBe(before.length);
          omitted += Number(m[1]);
        }
        expect(copy.omittedChars ?? 0).toBe(omitted);
        if (bytesOf(original) <= maxBytes) expect(copy).toBe(original);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('keeps short texts whole and shares the rest: a 600 KB prompt beside a short system text', () => {
    const prompt = `START ${'字'.repeat(199_000)} END`;
    const copy = boundReviewInput({ system: 'Be brief.', messages: [{ role: 'user', content: prompt }] });
    expect(copy.system).toBe('Be brief.');
    expect(utf8Bytes(copy.messages[0]!.content)).toBeGreaterThan(MAX_REVIEW_INPUT_BYTES - 200);
    expect(bytesOf(copy)).toBeLessThanOrEqual(MAX_REVIEW_INPUT_BYTES);
    expect(copy.messages[0]!.content).toMatch(
      /^START 字+\n\[… \d+ characters left out of the review copy …\]\n字+ END$/,
    );
  });
});
