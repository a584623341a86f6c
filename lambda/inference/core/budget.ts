/**
 * The budget step: what a call may cost at worst, and the `BudgetHold` a request keeps on the month counter
 * (reserved before its first call, topped up before each further call that needs more, settled with the
 * actual usage, or released). Every reservation is one conditional update of the month counter (`Ledger`).
 */
import { costNanoUsd, nanoToUsd, type Tier, usdToNano } from '../../shared/catalog';
import { DomainError } from '../../shared/errors';
import type { TenantRuntimeConfig } from '../../shared/tenant-runtime';
import { ledgerDown } from './accept';
import { type CallExtras, guardrailWorstCaseNanoUsd, NO_CALL_EXTRAS } from './guardrail';
import type { Clock, Ledger, Settlement } from './ports';
import { allowedTiers, maxTokensCap, type ResolvedRequest } from './resolve';

/** Tokens a message costs beyond its characters (role and framing), for the worst-case input estimate. */
const MESSAGE_OVERHEAD_TOKENS = 16;

/**
 * Worst-case cost of a call in nano-USD: every prompt and preamble byte a token (an upper bound) plus maxTokens,
 * and the guardrail's text units over the prompt (bytes bound its characters) and the answer.
 */
export function worstCaseNanoUsd(
  modelId: string,
  resolved: Pick<ResolvedRequest, 'promptBytes' | 'messages'>,
  maxTokens: number,
  extras: CallExtras = NO_CALL_EXTRAS,
): number {
  const blocks = resolved.messages.length + 1;
  const inputTokens =
    resolved.promptBytes + extras.preambleBytes + MESSAGE_OVERHEAD_TOKENS * (blocks + extras.preambleBlocks);
  return (
    costNanoUsd(modelId, { inputTokens, outputTokens: maxTokens }) +
    guardrailWorstCaseNanoUsd(extras.guardrailPolicies, {
      inputChars: resolved.promptBytes,
      inputBlocks: blocks,
      maxTokens,
    })
  );
}

/** Seconds until the next UTC month starts (when a budget resets). */
function secondsToNextMonth(now: number): number {
  const d = new Date(now);
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return Math.max(1, Math.ceil((next - now) / 1000));
}

/** The tenant's month budget in nano-USD, and the near-cap line above which Switchboard stops choosing stronger tiers. */
export interface BudgetLimits {
  readonly capNano: number;
  readonly nearCapNano: number;
}

export function budgetLimitsOf(tenant: Pick<TenantRuntimeConfig, 'monthlyBudgetUsd' | 'routing'>): BudgetLimits {
  const capNano = usdToNano(tenant.monthlyBudgetUsd);
  return { capNano, nearCapNano: Math.floor(capNano * tenant.routing.nearCapShare) };
}

/**
 * `cap`: the month's committed spend may reach the budget. `near-cap` (a choice Switchboard makes: routing to a
 * stronger tier, escalating) also requires the month to be below the near-cap line.
 */
export type BudgetGuard = 'near-cap' | 'cap';

/** The refusal of a request the budget cannot hold even on the cheapest tier (nothing was written). */
async function budgetExceeded(
  ledger: Ledger,
  tenant: Pick<TenantRuntimeConfig, 'monthlyBudgetUsd'>,
  month: string,
  cheapest: Tier,
  now: () => number,
): Promise<DomainError> {
  const u = await ledger.getUsage(month).catch(() => undefined);
  const committed = u ? ` (committed $${nanoToUsd(u.committedNanoUsd)} incl. running requests)` : '';
  return new DomainError(
    'budget_exceeded',
    `Monthly budget of $${tenant.monthlyBudgetUsd} for ${month} cannot cover this request even on tier ${cheapest}${committed}; it resets at the start of next month (UTC), or the platform team can raise monthlyBudgetUsd`,
    secondsToNextMonth(now()),
  );
}

/** The run a hold belongs to. */
export interface HoldOwner {
  readonly requestId: string;
  readonly runId: string;
  readonly month: string;
}

/**
 * The budget a request holds on the month counter: reservations made before calls, topped up when a call
 * needs more than what is left of them, replaced by the actual cost at settlement.
 */
export class BudgetHold {
  private readonly ids: string[] = [];
  /** Reservations whose write failed with an error: DynamoDB may or may not have applied them. */
  private readonly uncertain: Array<{ id: string; nanoUsd: number }> = [];
  private seq = 0;
  private heldNano = 0;
  private spentNano = 0;

  constructor(
    private readonly ledger: Ledger,
    private readonly clock: Clock,
    private readonly limits: BudgetLimits,
    readonly owner: HoldOwner,
  ) {}

  get reservationIds(): readonly string[] {
    return this.ids;
  }

  /** Nano-USD reserved so far. */
  get held(): number {
    return this.heldNano;
  }

  /** Counts a call's actual cost against what is held. */
  spend(nano: number): void {
    this.spentNano += nano;
  }

  /** The first reservation: `need` nano-USD for the first call (false: the budget cannot hold it). */
  reserve(need: number, guard: BudgetGuard): Promise<boolean> {
    return this.ensure(need, guard);
  }

  /** Before a further call: reserves what `need` exceeds of the unspent hold (false: the budget cannot). */
  topUp(need: number, guard: BudgetGuard): Promise<boolean> {
    return this.ensure(need, guard);
  }

  private async ensure(need: number, guard: BudgetGuard): Promise<boolean> {
    const free = this.heldNano - this.spentNano;
    if (free >= need) return true;
    const extra = need - free;
    const { capNano, nearCapNano } = this.limits;
    const limit = guard === 'near-cap' ? Math.min(capNano - extra, nearCapNano) : capNano - extra;
    const { requestId, runId, month } = this.owner;
    // `<requestId>.<runId>.<n>`: the reconciler finds a run's reservations (and its record) by runId.
    // A new number for every attempt, so a write that failed is never mistaken for a later one.
    const id = `${requestId}.${runId}.${++this.seq}`;
    let r: 'reserved' | 'over_budget';
    try {
      r = await this.ledger.reserve(month, { id, requestId, nanoUsd: extra, at: this.clock.now() }, limit);
    } catch (e) {
      this.uncertain.push({ id, nanoUsd: extra });
      throw e;
    }
    if (r !== 'reserved') return false;
    this.ids.push(id);
    this.heldNano += extra;
    return true;
  }

  /** Replaces the reservations with the run's usage (exactly once: conditional on them still being open). */
  settle(usage: Pick<Settlement, 'requests' | 'byTier'>, signal?: AbortSignal) {
    const { requestId, month } = this.owner;
    return this.ledger.settle(
      month,
      { requestId, reservationIds: this.ids, reservedNanoUsd: this.heldNano, ...usage },
      signal,
    );
  }

  /** Gives everything held back, charging nothing (best effort: what stays open, the reconciler releases). */
  async release(): Promise<void> {
    await this.settle({ requests: 0, byTier: {} }).catch(() => undefined);
    await this.releaseUncertain();
  }

  /**
   * Releases the reservations whose outcome is unknown, each on its own (a no-op for one that was never
   * written), so a write that DynamoDB applied but reported as failed never stays held or gets charged.
   */
  async releaseUncertain(signal?: AbortSignal): Promise<void> {
    const { requestId, month } = this.owner;
    for (const u of this.uncertain.splice(0)) {
      await this.ledger
        .settle(
          month,
          { requestId, reservationIds: [u.id], reservedNanoUsd: u.nanoUsd, requests: 0, byTier: {} },
          signal,
        )
        .catch(() => undefined); // still open: the reconciler releases it with its run
    }
  }
}

/**
 * The reserve step: holds the first call's worst case, so a request the budget cannot hold writes nothing
 * (`budget_exceeded`). Near the cap, a tier Switchboard chose (`auto`) above the cheapest drops to the
 * cheapest allowed tier (`budgetDowngrade`). A reservation write that failed may still have been applied: it
 * is released before `ledger_unavailable`.
 */
export async function reserveFirstCall(
  hold: BudgetHold,
  ledger: Ledger,
  tenant: TenantRuntimeConfig,
  resolved: ResolvedRequest,
  extras: CallExtras,
  now: () => number,
): Promise<{ resolved: ResolvedRequest; budgetDowngrade: boolean }> {
  const cheapest = allowedTiers(tenant)[0]!;
  const maxTokensOn = (modelId: string) => Math.min(resolved.requestedMaxTokens, maxTokensCap(tenant, modelId));
  const worstOn = (tier: Tier) => {
    const modelId = tenant.tierModels[tier]!;
    return worstCaseNanoUsd(modelId, resolved, maxTokensOn(modelId), extras);
  };
  const firstGuard = resolved.auto && resolved.tier !== cheapest ? 'near-cap' : 'cap';
  const holdDown = async (e: unknown): Promise<never> => {
    await hold.releaseUncertain();
    return ledgerDown(e);
  };
  if (await hold.reserve(worstOn(resolved.tier), firstGuard).catch(holdDown))
    return { resolved, budgetDowngrade: false };
  if (firstGuard === 'near-cap' && (await hold.reserve(worstOn(cheapest), 'cap').catch(holdDown))) {
    const modelId = tenant.tierModels[cheapest]!;
    const downgraded: ResolvedRequest = {
      ...resolved,
      tier: cheapest,
      modelId,
      maxTokens: maxTokensOn(modelId),
      routeReason: `${resolved.routeReason}; budget: month spend is at or above ${Math.round(tenant.routing.nearCapShare * 100)}% of $${tenant.monthlyBudgetUsd} → cheapest tier ${cheapest}`,
    };
    return { resolved: downgraded, budgetDowngrade: true };
  }
  throw await budgetExceeded(ledger, tenant, hold.owner.month, cheapest, now);
}
