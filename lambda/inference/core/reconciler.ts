/**
 * The reconciler: closes runs that died with reservations open (a crash, or DynamoDB down while settling),
 * settling each from its record, the source of truth, or releasing it when the record never finished.
 * Idempotent; safe to run concurrently (each settlement is conditional on its reservations still being open).
 * Its entry points: the schedule (`reconcileRecent`, see RECONCILE_EVENT) and a usage read that finds stale
 * reservations (`reconcile`).
 */
import { monthOf } from '../../shared/ledger-schema';
import { usageOfRecord } from './outcome';
import type { Clock, Ledger, OpenReservation } from './ports';

/** Open reservations older than this belong to runs that cannot still be alive (Lambda timeout ≤ 29 s). */
export const STALE_RESERVATION_MS = 5 * 60_000;

/** What one month's reconciliation closed. */
export interface Reconciled {
  readonly settled: number;
  readonly released: number;
}

/** The runs of a month's open reservations, by `<requestId>.<runId>`. */
function runsOf(reservations: readonly OpenReservation[]): Map<string, OpenReservation[]> {
  // A run's reservations are settled together, in one update: settling some of them with the record's
  // usage and the rest later would charge the record twice.
  const byRun = new Map<string, OpenReservation[]>();
  for (const r of reservations) {
    const run = r.id.slice(0, r.id.lastIndexOf('.'));
    byRun.set(run, [...(byRun.get(run) ?? []), r]);
  }
  return byRun;
}

/** The reconciler of one ledger; see the file header. */
export class Reconciler {
  constructor(private readonly deps: { readonly ledger: Ledger; readonly clock: Clock }) {}

  /** Closes one dead run: `settled` when its record's usage was charged, `released` when nothing was. */
  private async closeRun(
    month: string,
    run: string,
    rs: readonly OpenReservation[],
    now: number,
  ): Promise<'settled' | 'released' | undefined> {
    const { ledger } = this.deps;
    const requestId = rs[0]!.requestId;
    const runId = run.slice(run.lastIndexOf('.') + 1);
    let record = await ledger.getRequest(requestId);
    if (record?.status === 'in_progress' && record.runId === runId) {
      await ledger.finishRequest(requestId, runId, {
        status: 'failed',
        updatedAt: new Date(now).toISOString(),
        tier: record.tier,
        modelId: record.modelId,
        inputTokens: 0,
        outputTokens: 0,
        costNanoUsd: 0,
        latencyMs: 0,
        attempts: [],
        error: { code: 'interrupted', message: 'The run was interrupted before it recorded an outcome; retry' },
      });
      record = await ledger.getRequest(requestId);
    }
    // Only the run that wrote the record's outcome charges it, and only if its settlement has not
    // happened (some reservation it settles is still open); anything else is released.
    const settledBefore = !!record?.reservationIds && !rs.some((x) => record!.reservationIds!.includes(x.id));
    const ours = !!record && record.runId === runId && record.status !== 'in_progress' && !settledBefore;
    const counts = ours && record!.status !== 'failed';
    const r = await ledger.settle(month, {
      requestId,
      reservationIds: rs.map((x) => x.id),
      reservedNanoUsd: rs.reduce((n, x) => n + x.nanoUsd, 0),
      requests: counts ? 1 : 0,
      byTier: ours ? usageOfRecord(record!) : {},
    });
    if (r.result !== 'settled') return undefined;
    return counts ? 'settled' : 'released';
  }

  /** Reconciles one month (`YYYY-MM`); see the file header. */
  async reconcile(month: string): Promise<Reconciled> {
    const usage = await this.deps.ledger.getUsage(month);
    const now = this.deps.clock.now();
    let settled = 0;
    let released = 0;
    let failed = 0;
    for (const [run, rs] of runsOf(usage.openReservations)) {
      // The run may still be alive while its newest reservation is recent.
      if (rs.some((r) => now - r.at <= STALE_RESERVATION_MS)) continue;
      try {
        const closed = await this.closeRun(month, run, rs, now);
        if (closed === 'settled') settled++;
        else if (closed === 'released') released++;
      } catch {
        // One run DynamoDB refused to close does not stop the others; the next pass retries it.
        failed++;
      }
    }
    if (failed && !settled && !released) throw new Error(`reconcile: ${failed} run(s) could not be closed`);
    return { settled, released };
  }

  /**
   * Reconciles this month and the last (a run that died just before a month turned keeps its reservation
   * on the old month's counter). Run on a schedule, so reservations of dead runs never outlive
   * `STALE_RESERVATION_MS` plus the schedule's period, whether or not anyone reads the usage.
   */
  async reconcileRecent(): Promise<Record<string, Reconciled>> {
    const now = new Date(this.deps.clock.now());
    const thisMonth = monthOf(now.getTime());
    const lastMonth = monthOf(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
    const out: Record<string, Reconciled> = {};
    let error: unknown;
    for (const m of [lastMonth, thisMonth]) {
      // A month DynamoDB refuses does not keep the other from being reconciled.
      out[m] = await this.reconcile(m).catch((e) => {
        error = error ?? e;
        return { settled: 0, released: 0 };
      });
    }
    if (error) throw error;
    return out;
  }
}
