/**
 * The model chain of one request: a call with its deadline and budget top-up, a tier's model then its
 * fallbacks, and the neighbouring tier when every model of the routed tier failed. Every call, answered or
 * failed, becomes an attempt of the record; the chain keeps them, and the failures for the error.
 */
import type { Attempt } from '../../shared/api-schema';
import { costNanoUsd, nanoToUsd, type Tier } from '../../shared/catalog';
import type { TenantRuntimeConfig } from '../../shared/tenant-runtime';
import { CALL_TIMING } from '../../shared/timing';
import { type BudgetGuard, type BudgetHold, worstCaseNanoUsd } from './budget';
import type { CallExtras } from './guardrail';
import {
  type Clock,
  type ConfidenceFn,
  ModelCallError,
  type ModelFailureKind,
  type ModelInvoker,
  type ModelReply,
} from './ports';
import { maxTokensCap, type ResolvedRequest } from './resolve';

/** No model call starts with less time than this before the deadline. */
const MIN_CALL_MS = CALL_TIMING.minCallMs;
/** A call may use at most this share of the time left (or all but `FALLBACK_KEEP_MS`), so a fallback can run. */
const CALL_TIME_SHARE = CALL_TIMING.callTimeShare;
const FALLBACK_KEEP_MS = CALL_TIMING.fallbackKeepMs;
/** Time scoring may take when the call's own time box has run out. */
const SCORING_BUDGET_MS = 250;

/** An answer, with the tier and model that gave it and its confidence. */
export interface Answer {
  readonly kind: 'ok';
  readonly tier: Tier;
  readonly modelId: string;
  readonly reply: ModelReply;
  readonly confidence: number;
}

/** One model call's result inside a request. */
export type CallResult =
  | Answer
  | { readonly kind: 'failed'; readonly error: ModelCallError }
  | { readonly kind: 'skipped'; readonly why: 'deadline' | 'budget' | 'ledger' };

export const SKIP_REASONS = {
  deadline: 'no time left before the deadline',
  budget: 'budget cannot hold its worst case',
  ledger: 'the budget reservation could not be written',
} as const;

/** Whether another model may answer after this failure. */
export const transient = (k: ModelFailureKind) => k !== 'error';

/** The time box of a call that starts at `start` with the request's deadline at `deadlineMs`. */
export function callDeadline(start: number, deadlineMs: number): number {
  const remaining = deadlineMs - start;
  return start + Math.max(remaining * CALL_TIME_SHARE, remaining - FALLBACK_KEEP_MS);
}

/** What a chain needs: the ports, the tenant, the resolved request, its hold and its deadline. */
export interface ModelChainContext {
  readonly invoker: ModelInvoker;
  readonly clock: Clock;
  readonly confidence: ConfidenceFn;
  readonly tenant: TenantRuntimeConfig;
  readonly extras: CallExtras;
  readonly resolved: ResolvedRequest;
  readonly hold: BudgetHold;
  readonly deadlineMs: number;
}

/** The calls of one request; see the file header. */
export class ModelChain {
  readonly attempts: Attempt[] = [];
  readonly failures: ModelCallError[] = [];
  /** Why the last skipped call was skipped (for the error when nothing answered). */
  skipped: string | undefined;

  constructor(private readonly ctx: ModelChainContext) {}

  /** The first answer: the routed tier, then one neighbouring tier (stronger if allowed, else weaker). */
  async first(allowed: readonly Tier[]): Promise<CallResult> {
    const { tier } = this.ctx.resolved;
    const result = await this.tier(tier, 'route', 'cap');
    if (result.kind === 'ok' || result.kind === 'skipped' || !transient(result.error.kind)) return result;
    const i = allowed.indexOf(tier);
    const neighbour = allowed[i + 1] ?? allowed[i - 1];
    if (!neighbour) return result;
    return this.tier(
      neighbour,
      `fallback: every ${tier} model failed`,
      allowed.indexOf(neighbour) > i ? 'near-cap' : 'cap',
    );
  }

  /** A tier's model, then its fallbacks; stops at the first answer or a non-transient failure. */
  async tier(tier: Tier, reason: string, guard: BudgetGuard): Promise<CallResult> {
    const chain = [this.ctx.tenant.tierModels[tier]!, ...(this.ctx.tenant.tierFallbacks[tier] ?? [])];
    let last: CallResult = { kind: 'skipped', why: 'deadline' };
    for (const [i, modelId] of chain.entries()) {
      const why = i === 0 ? reason : `fallback: ${chain[i - 1]} failed (${this.failures.at(-1)?.errorName})`;
      last = await this.call(tier, modelId, why, guard);
      if (last.kind === 'ok') return last;
      if (last.kind === 'skipped') {
        this.skipped = `${modelId} skipped: ${SKIP_REASONS[last.why]}`;
        if (last.why === 'deadline') return last;
        continue;
      }
      if (!transient(last.error.kind)) return last;
    }
    return last;
  }

  /** One model call, with its budget top-up and time box. */
  async call(tier: Tier, modelId: string, reason: string, guard: BudgetGuard): Promise<CallResult> {
    const { invoker, clock, tenant, resolved, hold, deadlineMs } = this.ctx;
    const callStart = clock.now();
    if (deadlineMs - callStart < MIN_CALL_MS) return { kind: 'skipped', why: 'deadline' };
    const maxTokens = Math.min(resolved.requestedMaxTokens, maxTokensCap(tenant, modelId));
    let held: boolean;
    try {
      held = await hold.topUp(worstCaseNanoUsd(modelId, resolved, maxTokens, this.ctx.extras), guard);
    } catch {
      // DynamoDB refused the top-up: no call without a reservation; the outcome says why.
      return { kind: 'skipped', why: 'ledger' };
    }
    if (!held) return { kind: 'skipped', why: 'budget' };
    const timeBox = callDeadline(callStart, deadlineMs);
    try {
      const reply = await invoker.converse({
        modelId,
        system: resolved.system,
        messages: resolved.messages,
        maxTokens,
        deadlineMs: Math.min(deadlineMs, timeBox),
        preamble: tenant.preamble,
      });
      return this.answered(tier, modelId, reason, reply, timeBox);
    } catch (e) {
      if (!(e instanceof ModelCallError)) throw e;
      this.failures.push(e);
      this.attempts.push({
        tier,
        modelId,
        outcome: e.kind === 'error' ? 'error' : e.kind,
        inputTokens: 0,
        outputTokens: 0,
        costUsd: 0,
        latencyMs: clock.now() - callStart,
        errorCode: e.errorName,
        reason,
      });
      return { kind: 'failed', error: e };
    }
  }

  /** Records a paid call before its answer is scored: whatever scoring does, the usage is kept. */
  private answered(tier: Tier, modelId: string, reason: string, reply: ModelReply, timeBox: number): Answer {
    const cost = costNanoUsd(modelId, reply);
    this.ctx.hold.spend(cost);
    const attempt = {
      tier,
      modelId,
      outcome: 'ok' as const,
      inputTokens: reply.inputTokens,
      outputTokens: reply.outputTokens,
      costUsd: nanoToUsd(cost),
      latencyMs: reply.latencyMs,
      stopReason: reply.stopReason,
      reason,
      ...(reply.guardrailUnits ? { guardrailUnits: reply.guardrailUnits } : {}),
    };
    this.attempts.push(attempt);
    const scored = this.scoreWithin(reply, timeBox);
    const confidence = Math.round(scored.confidence * 1000) / 1000;
    this.attempts[this.attempts.indexOf(attempt)] = { ...attempt, confidence, signals: [...scored.signals] };
    return { kind: 'ok', tier, modelId, reply, confidence };
  }

  /**
   * The answer's confidence, within the call's time box (a scorer that runs out of time caps its score); a
   * scorer that fails scores 0, so the answer goes up the cascade rather than out unchecked.
   */
  private scoreWithin(reply: { text: string; stopReason: string }, deadline: number) {
    const { clock } = this.ctx;
    try {
      return this.ctx.confidence({
        prompt: this.ctx.resolved.routingText,
        text: reply.text,
        stopReason: reply.stopReason,
        budget: { now: clock.now, deadline: Math.max(deadline, clock.now() + SCORING_BUDGET_MS) },
      });
    } catch {
      return { confidence: 0, signals: ['scoring:failed'] };
    }
  }
}
