/**
 * Purging an offboarded pooled tenant's items from its cell's ledger (tenant file `offboarding.data: delete`).
 *
 * The control plane cannot read tenant data: it finds the tenant's items with a keys-only Scan of the cell's ledger
 * (pk and sk, filtered to `T#<tenant>#`), and deletes them through a session of the cell's tenant-access role
 * tagged with that tenant, so a key of another tenant, whatever the bug, is refused by IAM (`dynamodb:LeadingKeys`).
 *
 * Passes: a pass scans the whole table, page by page, deleting the tenant's items of each page; passes repeat until
 * one finds none (an item written while the first pass ran, say by a review finishing, is found by the next). The
 * counts of the evidence: items of the tenant in the ledger before (all deleted) and after (found by the last pass: 0).
 *
 * Bounded and resumable: one call works at most `PurgeBudget.maxItems` items or `maxMs` milliseconds (a page is
 * finished), recording its progress in the registry ({@link PurgeProgress}) after every page. The keys of a page are
 * recorded before they are deleted: a crash mid-page, and the retry deletes them again (a no-op for those gone) and
 * counts them once. A purge not finished answers 202 `purge: in_progress`; the next DELETE goes on.
 */
import { DomainError } from '../../shared/errors';
import { poolTenantPrefix } from '../../shared/pool-keys';
import type { PoolCellEnv } from '../../shared/pool-runtime';
import type { ControlPlaneDeps, PurgeProgress } from './ports';

/** Default budget of one call: well inside API Gateway's 29 s integration timeout. */
export const DEFAULT_PURGE_BUDGET = { maxItems: 5_000, maxMs: 15_000, pageSize: 500 } as const;

/** Runs the purge of `tenantId` in `cell` for one call's budget; returns where it stands. */
export async function purgeStep(
  deps: ControlPlaneDeps,
  cell: PoolCellEnv,
  tenantId: string,
  at: string,
): Promise<PurgeProgress> {
  const { registry, ledger, purgeBudget: budget } = deps;
  const prefix = poolTenantPrefix(tenantId);
  const started = deps.now();
  let p: PurgeProgress = (await registry.getPurge(tenantId)) ?? {
    tenantId,
    cell: cell.id,
    startedAt: at,
    updatedAt: at,
    pass: 1,
    passEnded: false,
    foundThisPass: 0,
    deleted: 0,
    done: false,
    version: 0,
  };
  const save = async (next: Omit<PurgeProgress, 'version' | 'updatedAt'>) => {
    const written: PurgeProgress = {
      ...next,
      updatedAt: new Date(deps.now()).toISOString(),
      version: p.version + 1,
    } as PurgeProgress;
    if (!(await registry.putPurge(written))) {
      throw new DomainError(
        'tenant_changed',
        `Tenant "${tenantId}" is being purged by another call meanwhile; retry the DELETE when it has answered`,
      );
    }
    p = written;
  };
  if (p.version === 0) await save(p);
  let items = 0;
  for (;;) {
    if (p.done) return p;
    if (p.pending) {
      const keys = p.pending.keys;
      if (keys.some((k) => !k.pk.startsWith(prefix))) throw new Error(`purge of ${tenantId}: a key outside ${prefix}`);
      if (keys.length) await ledger.deleteTenantItems(cell, tenantId, keys);
      items += keys.length;
      const { pending, cursor: _c, ...rest } = p;
      await save({
        ...rest,
        ...(pending.next ? { cursor: pending.next } : {}),
        passEnded: pending.next === undefined,
        foundThisPass: p.foundThisPass + keys.length,
        deleted: p.deleted + keys.length,
      });
      continue;
    }
    if (p.passEnded) {
      const { cursor: _c, ...rest } = p;
      await save(
        p.foundThisPass === 0
          ? { ...rest, done: true }
          : { ...rest, pass: p.pass + 1, passEnded: false, foundThisPass: 0 },
      );
      continue;
    }
    if (items >= budget.maxItems || deps.now() - started >= budget.maxMs) return p;
    const page = await ledger.scanTenantKeys(cell, tenantId, p.cursor, budget.pageSize);
    const keys = page.keys.filter((k) => k.pk.startsWith(prefix));
    const { cursor: _c, ...rest } = p;
    // Recorded before deleting (see the file header); a page without the tenant's items only moves the cursor.
    await save(
      keys.length
        ? {
            ...rest,
            ...(p.cursor ? { cursor: p.cursor } : {}),
            pending: { keys, ...(page.next ? { next: page.next } : {}) },
          }
        : { ...rest, ...(page.next ? { cursor: page.next } : {}), passEnded: page.next === undefined },
    );
  }
}
