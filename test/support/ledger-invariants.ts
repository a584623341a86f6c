/**
 * What "nothing is lost" means, as assertions on a tenant's ledger after a batch of requests:
 * every accepted request has exactly one record, none doubled, each terminal or visibly pending; each
 * record's cost is the priced tokens and guardrail text units of its answered calls; the month counter equals the sum of the
 * records (total and per tier) with no reservation left open; and the tenant was charged exactly for
 * what the model stand-in answered.
 */
import { REVIEW_REFUSALS } from '../../lambda/inference/core/review-admission';
import { costNanoUsd, type GuardrailUnits, usdToNano } from '../../lambda/shared/catalog';
import type { InferenceHarness } from './inference-harness';

export interface Outcome {
  readonly status: number;
  readonly requestId?: string;
  readonly code?: string;
}

type Item = Record<string, unknown>;

export function checkLedger(opts: {
  records: Item[];
  counter: Item;
  outcomes: readonly Outcome[];
  harness?: InferenceHarness;
  /** Statuses a record may end in for this scenario. */
  allowedStatuses?: readonly string[];
}): void {
  const { records, counter, outcomes } = opts;
  const ids = records.map((r) => r.requestId as string);
  expect(new Set(ids).size).toBe(ids.length);
  // A 429 refuses before acceptance (budget, throttling), except a review cap's refusal, which comes after the
  // models answered: that request has its record (failed, charged).
  const accepted = new Set(
    outcomes
      .filter((o) => o.requestId && (o.status !== 429 || (o.code !== undefined && REVIEW_REFUSALS.has(o.code))))
      .map((o) => o.requestId!),
  );
  expect([...accepted].sort()).toEqual([...ids].sort());

  const allowed = opts.allowedStatuses ?? ['completed', 'failed', 'pending_review'];
  for (const r of records) {
    expect(allowed).toContain(r.status);
    const attempts = (r.attempts as Array<Record<string, unknown>>) ?? [];
    const priced = attempts
      .filter((a) => a.outcome === 'ok')
      .reduce(
        (n, a) =>
          n +
          costNanoUsd(a.modelId as string, {
            inputTokens: a.inputTokens as number,
            outputTokens: a.outputTokens as number,
            guardrailUnits: a.guardrailUnits as GuardrailUnits | undefined,
          }),
        0,
      );
    expect(r.costNanoUsd).toBe(priced);
    expect(attempts.filter((a) => a.outcome === 'ok').reduce((n, a) => n + usdToNano(a.costUsd as number), 0)).toBe(
      priced,
    );
  }

  const sum = (f: (r: Item) => number) => records.reduce((n, r) => n + f(r), 0);
  const total = sum((r) => r.costNanoUsd as number);
  expect(counter.costNanoUsd ?? 0).toBe(total);
  expect(counter.committedNanoUsd ?? 0).toBe(total);
  expect(counter.reservedNanoUsd ?? 0).toBe(0);
  expect(Object.keys(counter).filter((k) => k.startsWith('rsv_'))).toEqual([]);
  expect(counter.inputTokens ?? 0).toBe(sum((r) => r.inputTokens as number));
  expect(counter.outputTokens ?? 0).toBe(sum((r) => r.outputTokens as number));
  expect(counter.requests ?? 0).toBe(records.filter((r) => r.status !== 'failed').length);
  // Per tier: the counter's split adds up to the calls recorded on each tier.
  const tiers = new Set(
    records.flatMap((r) => (r.attempts as Array<Record<string, unknown>>).map((a) => a.tier as string)),
  );
  for (const t of tiers) {
    const tierCost = sum((r) =>
      (r.attempts as Array<Record<string, unknown>>)
        .filter((a) => a.tier === t && a.outcome === 'ok')
        .reduce((n, a) => n + usdToNano(a.costUsd as number), 0),
    );
    expect(counter[`tier_${t}_costNanoUsd`] ?? 0).toBe(tierCost);
  }
  if (opts.harness) expect(total).toBe(opts.harness.usedNanoUsd());
}
