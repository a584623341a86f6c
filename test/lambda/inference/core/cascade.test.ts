import { cascadeDecision } from '../../../../lambda/inference/core/cascade';
import type { Tier } from '../../../../lambda/shared/catalog';

const ALL: Tier[] = ['fast', 'balanced', 'deep'];
const th = { confidenceThreshold: 0.7, reviewThreshold: 0.4 };

describe('cascadeDecision', () => {
  it.each([
    { tier: 'fast', allowed: ALL, confidence: 0.9, action: 'accept' },
    { tier: 'fast', allowed: ALL, confidence: 0.5, action: 'escalate', next: 'balanced' },
    { tier: 'balanced', allowed: ALL, confidence: 0.5, action: 'escalate', next: 'deep' },
    { tier: 'fast', allowed: ['fast', 'deep'], confidence: 0.5, action: 'escalate', next: 'deep' },
    { tier: 'deep', allowed: ALL, confidence: 0.5, action: 'accept' },
    { tier: 'deep', allowed: ALL, confidence: 0.3, action: 'review' },
    { tier: 'balanced', allowed: ['fast', 'balanced'], confidence: 0.3, action: 'review' },
    { tier: 'balanced', allowed: ['fast', 'balanced'], confidence: 0.7, action: 'accept' },
    { tier: 'fast', allowed: ['fast'], confidence: 0.1, action: 'review' },
  ] as { tier: Tier; allowed: Tier[]; confidence: number; action: string; next?: Tier }[])(
    '$tier of $allowed at confidence $confidence → $action $next',
    ({ tier, allowed, confidence, action, next }) => {
      const d = cascadeDecision({ tier, allowedTiers: allowed, confidence, ...th });
      expect(d.action).toBe(action);
      if (d.action === 'escalate') expect(d.nextTier).toBe(next);
    },
  );

  it('at the thresholds exactly: an answer scoring the confidence threshold is accepted, one scoring the review threshold on the strongest tier is released, a hair below goes to review', () => {
    const decide = (tier: Tier, confidence: number) =>
      cascadeDecision({ tier, allowedTiers: ALL, confidence, ...th }).action;
    expect(decide('fast', 0.7)).toBe('accept');
    expect(decide('fast', 0.7 - 1e-9)).toBe('escalate');
    expect(decide('deep', 0.4)).toBe('accept');
    expect(decide('deep', 0.4 - 1e-9)).toBe('review');
    // A review threshold capped to the confidence threshold: scoring it exactly is still an accepted answer.
    const capped = (confidence: number) =>
      cascadeDecision({ tier: 'deep', allowedTiers: ALL, confidence, confidenceThreshold: 0.7, reviewThreshold: 0.9 })
        .action;
    expect([capped(0.7), capped(0.7 - 1e-9)]).toEqual(['accept', 'review']);
  });

  it('walks the ladder fast → balanced → deep → review for an answer that stays doubtful', () => {
    const seen: string[] = [];
    let tier: Tier = 'fast';
    for (let i = 0; i < 5; i++) {
      const d = cascadeDecision({ tier, allowedTiers: ALL, confidence: 0.2, ...th });
      seen.push(d.action === 'escalate' ? d.nextTier : d.action);
      if (d.action !== 'escalate') break;
      tier = d.nextTier;
    }
    expect(seen).toEqual(['balanced', 'deep', 'review']);
  });

  it('explains escalations and reviews with the confidence and the threshold', () => {
    const e = cascadeDecision({ tier: 'fast', allowedTiers: ALL, confidence: 0.42, ...th });
    expect(e).toMatchObject({ action: 'escalate', reason: expect.stringMatching(/0\.42 < 0\.70.*fast → balanced/) });
    const r = cascadeDecision({ tier: 'deep', allowedTiers: ALL, confidence: 0.12, ...th });
    expect(r).toMatchObject({ action: 'review', reason: expect.stringMatching(/0\.12 < review threshold 0\.40/) });
  });

  it('treats a review threshold above the confidence threshold as equal to it', () => {
    const d = cascadeDecision({
      tier: 'deep',
      allowedTiers: ALL,
      confidence: 0.75,
      confidenceThreshold: 0.7,
      reviewThreshold: 0.9,
    });
    expect(d.action).toBe('accept');
  });

  it('escalates from a tier outside the allowed list to the next stronger allowed tier', () => {
    const d = cascadeDecision({ tier: 'balanced', allowedTiers: ['fast', 'deep'], confidence: 0.1, ...th });
    expect(d).toMatchObject({ action: 'escalate', nextTier: 'deep' });
  });
});
