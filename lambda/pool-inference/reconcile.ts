/**
 * The scheduled reconciliation of a pool cell (RECONCILE_EVENT): the active tenants of the cell (the registry's
 * `byKind` index), each reconciled by its own service, on its own session (`reconcileRecent`: this month and the
 * last). At most {@link RECONCILE_TENANTS_PER_RUN} per run, a window that moves on with every run (so a cell with
 * more tenants is covered over a few runs), a few at once, and none started in the invocation's last seconds.
 */
import type { Context } from 'aws-lambda';
import type { Reconciled } from '../inference/core/reconciler';
import type { InferenceService } from '../inference/core/service';
import type { Telemetry } from '../shared/telemetry';
import { RECONCILE_EVERY_MINUTES } from '../shared/tenant-runtime';
import type { PooledTenant, TenantDirectory } from './tenant-directory';

/** Tenants reconciled at most by one scheduled run. */
export const RECONCILE_TENANTS_PER_RUN = 200;
/** Tenants reconciled at once. */
const RECONCILE_CONCURRENCY = 8;
/** A run starts no further tenant with less than this left of its invocation. */
const RECONCILE_STOP_BEFORE_END_MS = 10_000;

/** The window of `ids` a run at `now` reconciles: all of them, or a slice that moves on with every run. */
export function reconcileWindow(ids: readonly string[], now: number, perRun = RECONCILE_TENANTS_PER_RUN): string[] {
  if (ids.length <= perRun) return [...ids];
  const run = Math.floor(now / (RECONCILE_EVERY_MINUTES * 60_000));
  const start = (run * perRun) % ids.length;
  return Array.from({ length: perRun }, (_, i) => ids[(start + i) % ids.length]!);
}

export interface CellReconcileDeps {
  readonly directory: TenantDirectory;
  /** The service of a tenant the cell serves (its session, its key scope). */
  readonly serviceOf: (tenant: PooledTenant) => InferenceService;
  readonly telemetry: Telemetry;
  readonly now: () => number;
}

/** What one run did: by tenant and month, and in total. */
export interface CellReconciled {
  readonly reconciled: Record<string, Record<string, Reconciled>>;
  /** Active tenants of the cell. */
  readonly tenants: number;
  /** Tenants this run reconciled or tried to. */
  readonly attempted: number;
  readonly settled: number;
  readonly released: number;
  readonly failed: number;
}

/**
 * Reconciles the window of this run. One tenant's failure does not stop the others; the invocation fails (so
 * EventBridge retries it) only when no tenant could be reconciled at all.
 */
export async function reconcileCell(deps: CellReconcileDeps, context?: Partial<Context>): Promise<CellReconciled> {
  const { directory, now } = deps;
  const stopAt = now() + Math.max(0, (context?.getRemainingTimeInMillis?.() ?? 60_000) - RECONCILE_STOP_BEFORE_END_MS);
  const all = await directory.activeTenants();
  const window = reconcileWindow(all, now());
  const reconciled: Record<string, Record<string, Reconciled>> = {};
  const failed: Record<string, string> = {};
  let next = 0;
  const worker = async () => {
    while (next < window.length && now() < stopAt) {
      const tenantId = window[next++]!;
      try {
        const found = await directory.lookup(tenantId);
        if (found.served) reconciled[tenantId] = await deps.serviceOf(found.tenant).reconcileRecent();
      } catch (e) {
        failed[tenantId] = (e as Error)?.name ?? 'Error';
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(RECONCILE_CONCURRENCY, window.length) }, worker));
  const months = Object.values(reconciled).flatMap((m) => Object.values(m));
  const summary = {
    tenants: all.length,
    attempted: Object.keys(reconciled).length + Object.keys(failed).length,
    settled: months.reduce((n, r) => n + r.settled, 0),
    released: months.reduce((n, r) => n + r.released, 0),
    failed: Object.keys(failed).length,
  };
  deps.telemetry.log(summary.settled + summary.released + summary.failed ? 'WARN' : 'INFO', 'ledger reconciled', {
    ...summary,
    ...(summary.failed ? { failedTenants: failed } : {}),
  });
  if (summary.failed && summary.failed === summary.attempted) {
    throw new Error(`reconcile: none of ${summary.failed} tenant(s) could be reconciled`);
  }
  return { reconciled, ...summary };
}
