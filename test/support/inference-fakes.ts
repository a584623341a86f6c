/**
 * In-memory fakes of the inference core's ports (ledger, model, review queue, review hand-off, clock, ids),
 * so the pipeline's unit tests run without dynalite or the Bedrock stand-in. The ledger keeps the semantics
 * of the DynamoDB one that the core relies on: conditional create, reopen and finish; a reservation only
 * while committed ≤ the limit; a settlement exactly once (only while all its reservations are open).
 * Any method can be made to fail (`failWith`), as an outage would.
 */

import {
  type Clock,
  type Ledger,
  type ModelCall,
  ModelCallError,
  type ModelFailureKind,
  type ModelInvoker,
  type ModelReply,
  type OpenReservation,
  type RequestOutcome,
  type RequestRecord,
  type ReviewAdmission,
  type ReviewHandOff,
  type ReviewQueue,
  type Settlement,
  type TierUsage,
  type UsageCounters,
} from '../../lambda/inference/core/ports';
import type { InferenceServiceDeps } from '../../lambda/inference/core/service';
import { DEFAULT_TIER_MODELS } from '../../lambda/shared/catalog';
import type { TenantRuntimeConfig } from '../../lambda/shared/tenant-runtime';

/** A clock the test moves. */
export class FakeClock implements Clock {
  constructor(public t = Date.UTC(2026, 5, 15, 12, 0, 0)) {}
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

type Method<T> = { [K in keyof T]: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T];

/** Per-method failures: the next call of a method throws what its queue holds (an outage, a refusal). */
class Faults<T> {
  private readonly queued = new Map<Method<T>, unknown[]>();
  /** The next `times` calls of `method` throw `error`. */
  failWith(
    method: Method<T>,
    error: unknown = Object.assign(new Error('down'), { name: 'ServiceUnavailable' }),
    times = 1,
  ) {
    this.queued.set(method, [...(this.queued.get(method) ?? []), ...Array(times).fill(error)]);
  }
  protected check(method: Method<T>): void {
    const q = this.queued.get(method);
    if (q?.length) throw q.shift();
  }
}

const emptyUsage = (month: string) => ({
  month,
  requests: 0,
  inputTokens: 0,
  outputTokens: 0,
  costNanoUsd: 0,
  committedNanoUsd: 0,
  reservations: new Map<string, OpenReservation>(),
  byTier: {} as Record<string, { -readonly [K in keyof TierUsage]: number }>,
});

/** The ledger in memory. */
export class FakeLedger extends Faults<Ledger> implements Ledger {
  readonly records = new Map<string, RequestRecord>();
  readonly months = new Map<string, ReturnType<typeof emptyUsage>>();
  /** Every settlement that applied, in order. */
  readonly settlements: Settlement[] = [];

  private month(month: string) {
    const m = this.months.get(month) ?? emptyUsage(month);
    this.months.set(month, m);
    return m;
  }

  async getRequest(requestId: string) {
    this.check('getRequest');
    const r = this.records.get(requestId);
    return r ? structuredClone(r) : undefined;
  }

  async createRequest(record: RequestRecord) {
    this.check('createRequest');
    if (this.records.has(record.requestId)) return 'exists' as const;
    this.records.set(record.requestId, structuredClone(record));
    return 'created' as const;
  }

  async reopenFailedRequest(
    requestId: string,
    run: { at: string; runs: number; runId: string; month: string; expiresAt: number },
  ) {
    this.check('reopenFailedRequest');
    const r = this.records.get(requestId);
    if (r?.status !== 'failed') return false;
    const { error: _e, reservationIds: _r, ...rest } = r;
    this.records.set(requestId, {
      ...rest,
      status: 'in_progress',
      updatedAt: run.at,
      runs: run.runs,
      runId: run.runId,
      month: run.month,
      expiresAt: run.expiresAt,
    });
    return true;
  }

  async finishRequest(requestId: string, runId: string, outcome: RequestOutcome) {
    this.check('finishRequest');
    const r = this.records.get(requestId);
    if (r?.status !== 'in_progress' || r.runId !== runId) return false;
    const defined = Object.fromEntries(Object.entries(outcome).filter(([, v]) => v !== undefined));
    this.records.set(requestId, structuredClone({ ...r, ...defined }) as RequestRecord);
    return true;
  }

  async reserve(
    month: string,
    reservation: { id: string; requestId: string; nanoUsd: number; at: number },
    maxCommittedBefore: number,
  ) {
    this.check('reserve');
    const m = this.month(month);
    if (maxCommittedBefore < 0 || m.committedNanoUsd > maxCommittedBefore || m.reservations.has(reservation.id)) {
      return 'over_budget' as const;
    }
    m.reservations.set(reservation.id, { ...reservation });
    m.committedNanoUsd += reservation.nanoUsd;
    return 'reserved' as const;
  }

  async settle(month: string, settlement: Settlement) {
    this.check('settle');
    const m = this.month(month);
    if (!settlement.reservationIds.every((id) => m.reservations.has(id))) return { result: 'already_settled' as const };
    for (const id of settlement.reservationIds) m.reservations.delete(id);
    let cost = 0;
    for (const [tier, u] of Object.entries(settlement.byTier)) {
      m.byTier[tier] = m.byTier[tier] ?? { requests: 0, calls: 0, inputTokens: 0, outputTokens: 0, costNanoUsd: 0 };
      const t = m.byTier[tier];
      for (const k of Object.keys(t) as Array<keyof TierUsage>) t[k] += u[k];
      m.inputTokens += u.inputTokens;
      m.outputTokens += u.outputTokens;
      cost += u.costNanoUsd;
    }
    m.requests += settlement.requests;
    m.costNanoUsd += cost;
    m.committedNanoUsd += cost - settlement.reservedNanoUsd;
    this.settlements.push(structuredClone(settlement));
    return { result: 'settled' as const, costNanoUsd: m.costNanoUsd };
  }

  async getUsage(month: string): Promise<UsageCounters> {
    this.check('getUsage');
    const { reservations, ...m } = this.month(month);
    return structuredClone({ ...m, openReservations: [...reservations.values()].sort((a, b) => a.at - b.at) });
  }
}

/** What a scripted model does on one call. */
export type ModelScript = Partial<ModelReply> | ModelFailureKind | ((call: ModelCall) => Partial<ModelReply>);

/**
 * Models that answer from a script per model id (one entry per call, the last one repeating), by default
 * "OK" with 10 input and 5 output tokens. Records every call.
 */
export class FakeModels implements ModelInvoker {
  readonly calls: ModelCall[] = [];
  constructor(
    private readonly scripts: Record<string, ModelScript[]> = {},
    private readonly clock?: FakeClock,
  ) {}

  script(modelId: string, ...steps: ModelScript[]): this {
    this.scripts[modelId] = steps;
    return this;
  }

  async converse(call: ModelCall): Promise<ModelReply> {
    this.calls.push(call);
    const steps = this.scripts[call.modelId] ?? [];
    const step = steps.length > 1 ? steps.shift()! : steps[0];
    if (typeof step === 'string') {
      throw new ModelCallError(step, `${step} (fake)`, `Fake${step[0]!.toUpperCase()}${step.slice(1)}`);
    }
    const reply = typeof step === 'function' ? step(call) : (step ?? {});
    this.clock?.advance(reply.latencyMs ?? 10);
    return { text: 'OK', stopReason: 'end_turn', inputTokens: 10, outputTokens: 5, latencyMs: 10, ...reply };
  }
}

/** The review queue in memory, with the caps of the DynamoDB one. */
export class FakeReviewQueue extends Faults<ReviewQueue> implements ReviewQueue {
  readonly open = new Set<string>();
  readonly byHour = new Map<number, Set<string>>();

  async admit(
    slot: { reviewId: string; requestId: string; at: number },
    caps: { maxOpen: number; maxPerHour: number },
  ): Promise<ReviewAdmission> {
    this.check('admit');
    if (this.open.has(slot.reviewId)) return { result: 'admitted' };
    if (this.open.size >= caps.maxOpen) return { result: 'queue_full', open: this.open.size };
    const hour = Math.floor(slot.at / 3_600_000);
    const started = this.byHour.get(hour) ?? new Set();
    if (started.size >= caps.maxPerHour) return { result: 'rate_exceeded' };
    this.open.add(slot.reviewId);
    started.add(slot.reviewId);
    this.byHour.set(hour, started);
    return { result: 'admitted' };
  }

  async release(reviewId: string, opts: { admittedAt?: number } = {}): Promise<void> {
    this.check('release');
    this.open.delete(reviewId);
    if (opts.admittedAt !== undefined) this.byHour.get(Math.floor(opts.admittedAt / 3_600_000))?.delete(reviewId);
  }
}

/** The review hand-off: records what it was asked to start. */
export class FakeReviewHandOff extends Faults<ReviewHandOff> implements ReviewHandOff {
  readonly started: Array<Parameters<ReviewHandOff['start']>[0]> = [];
  async start(input: Parameters<ReviewHandOff['start']>[0]): Promise<void> {
    this.check('start');
    this.started.push(input);
  }
}

/** A tenant with two allowed tiers (fast, balanced) unless told otherwise. */
export function fakeTenant(overrides: Partial<TenantRuntimeConfig> = {}): TenantRuntimeConfig {
  return {
    tenantId: 'acme',
    plan: 'basic',
    defaultTier: 'fast',
    tierModels: { fast: DEFAULT_TIER_MODELS.fast, balanced: DEFAULT_TIER_MODELS.balanced },
    monthlyBudgetUsd: 10,
    limits: { maxPromptChars: 10_000, maxOutputTokens: 500, defaultMaxTokens: 200 },
    tierFallbacks: { fast: [], balanced: [] },
    routing: { mode: 'default-tier', deepThreshold: 0.5, balancedThreshold: 0.3, nearCapShare: 0.9 },
    escalation: {
      confidenceThreshold: 0.6,
      reviewThreshold: 0.3,
      honourStatedConfidence: false,
      maxOpenReviews: 20,
      maxReviewsPerHour: 10,
    },
    guardrail: { source: 'plan', policies: [] },
    preamble: {},
    dataRetentionDays: 30,
    ...overrides,
  };
}

/** Every port faked; `confidence` scores every answer (default 0.9, so the first answer is accepted). */
export function fakePorts(opts: { confidence?: number | ((text: string) => number) } = {}) {
  const clock = new FakeClock();
  const ledger = new FakeLedger();
  const models = new FakeModels({}, clock);
  const reviewQueue = new FakeReviewQueue();
  const review = new FakeReviewHandOff();
  let seq = 0;
  const score = opts.confidence ?? 0.9;
  const deps: InferenceServiceDeps = {
    invoker: models,
    ledger,
    clock,
    ids: { newRequestId: () => `req_fake${String(++seq).padStart(10, '0')}` },
    confidenceFor: () => (input) => ({
      confidence: typeof score === 'number' ? score : score(input.text),
      signals: ['fake'],
    }),
    review,
    reviewQueue,
  };
  return { clock, ledger, models, reviewQueue, review, deps };
}
