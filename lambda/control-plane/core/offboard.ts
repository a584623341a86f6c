/**
 * Offboarding (`DELETE /v1/tenants/{id}`), one write at a time:
 *
 * 1. the key is revoked, so the tenant is refused from the next request on, whatever happens after;
 * 2. the tenant item becomes `deleted` (kept: the id is never reused and the audit trail keeps its subject);
 * 3. the cell's authorizer cache is flushed, so the key is refused at once rather than after the cache's 60 s
 *    (core/authorizer-cache.ts; a flush that fails is reported, not fatal);
 * 4. the audit entry (once);
 * 5. with `offboarding.data: delete`, the purge of the tenant's items in its cell's ledger (core/purge.ts), bounded
 *    per call: when a call's budget runs out, the answer is 202 `purge: in_progress` and the next DELETE goes on;
 * 6. the tenant item's version is moved on (one call finishes, if DELETEs race), then the evidence record: what was deleted or kept, counts before and after, when (last of the record-keeping: its
 *    presence says the offboarding is complete, so a retry stops there);
 * 7. the tenant's cell place is released (crash before: the cell counts one tenant too many, never too few).
 *
 * A DELETE retried after a crash goes on from where it stopped: a deleted tenant without evidence gets its audit
 * entry (if it has none), the rest of its purge, evidence (marked `resumedAfter`) and place release; one with
 * evidence is 409 `tenant_deleted`. With `offboarding.data: retain` (the default) the records stay until their TTL
 * (the tenant's `dataRetentionDays`) removes them, and the evidence says until when.
 */
import { DomainError } from '../../shared/errors';
import type { TenantItem } from '../../shared/registry-schema';
import { flushAuthorizerCache } from './authorizer-cache';
import { getTenant } from './manage';
import type { ControlPlaneDeps, OffboardData, OffboardEvidence, PurgeProgress } from './ports';
import { purgeStep } from './purge';
import { syncReviewerSubscriptions } from './reviewer-subscriptions';
import { offboardingDataOf, tenantView } from './tenant-items';

const DAY_MS = 86_400_000;

/** Offboards a tenant; returns it (status `deleted`) and the evidence record, or the purge's progress (202). */
export async function offboardTenant(deps: ControlPlaneDeps, id: string, who: string) {
  const before = await getTenant(deps, id);
  if (before.isolation === 'silo') {
    throw new DomainError(
      'silo_tenant',
      `Tenant "${id}" is a silo: offboard it by removing tenants/${id}.yaml and destroying its stack (README, "What a deleted tenant leaves behind")`,
    );
  }
  const { registry } = deps;
  const at = new Date(deps.now()).toISOString();
  const resuming = before.status === 'deleted';
  if (resuming && (await registry.getEvidence(id))) {
    throw new DomainError('tenant_deleted', `Tenant "${id}" was already offboarded (at ${before.updatedAt})`);
  }
  const policy = offboardingDataOf(before);
  const cell = deps.cells.find((c) => c.id === before.cell);
  if (policy === 'delete' && !(cell?.ledgerTable && cell.tenantAccessRoleArn)) {
    throw new DomainError(
      'purge_unavailable',
      `Tenant "${id}" says offboarding.data: delete, but ${cell ? `cell ${cell.id} has no ledgerTable or tenantAccessRoleArn` : `cell ${before.cell} is not`} in POOL_CELLS, so its data cannot be deleted; nothing was changed. Deploy the control plane with the cell's outputs and retry, or suspend the tenant (PATCH {"suspend": true}) to refuse its key at once`,
      300,
    );
  }
  const keysBefore = await registry.countActiveKeys(id);
  let after: TenantItem = before;
  if (!resuming) {
    await registry.setKeyStatus(before.keyHash, 'revoked', ['pending', 'active'], at);
    after = { ...before, status: 'deleted', version: before.version + 1, updatedAt: at };
    if (!(await registry.replaceTenant(after, before.version))) {
      throw new DomainError('tenant_changed', `Tenant "${id}" was changed by another call meanwhile; retry the DELETE`);
    }
  }
  const authorizerCache = await flushAuthorizerCache(deps, after);
  after = (await syncReviewerSubscriptions(deps, after)).item; // its reviewers' e-mails unsubscribed (best effort)
  if (!resuming || !(await registry.listAudit(id)).some((a) => a.action === 'delete')) {
    const audit = { tenantId: id, action: 'delete', who, at, authorizerCache };
    await registry.appendAudit({ ...audit, before: tenantView(before), after: tenantView(after) });
  }
  let purge: PurgeProgress | undefined;
  if (policy === 'delete' && cell) {
    purge = await purgeStep(deps, cell, id, at);
    if (!purge.done) {
      return {
        status: 202 as const,
        body: {
          tenant: tenantView(after),
          authorizerCache,
          purge: {
            status: 'in_progress' as const,
            pass: purge.pass,
            deletedSoFar: purge.deleted,
            startedAt: purge.startedAt,
            next: `DELETE /v1/tenants/${id} again to continue (each call works a bounded share; the evidence is written when a pass finds none of the tenant's items)`,
          },
        },
      };
    }
  }
  const retentionDays = Number(before.runtime.dataRetentionDays ?? 0);
  const data: OffboardData = purge
    ? {
        policy: 'delete',
        purgeStartedAt: purge.startedAt,
        passes: purge.pass,
        how: `${purge.deleted} item(s) under T#${id}# deleted from ${cell?.ledgerTable} through a session of the cell's tenant-access role tagged switchboard:tenant=${id}; the last pass found none`,
      }
    : {
        policy: 'retain',
        keptUntil: new Date(Date.parse(at) + retentionDays * DAY_MS).toISOString(),
        how: `records kept for the retention period (dataRetentionDays ${retentionDays}); DynamoDB TTL removes each when it ends, the last by keptUntil (TTL deletes within days of expiry)`,
      };
  const evidence: OffboardEvidence = {
    tenantId: id,
    who,
    at,
    deleted: [
      `API key (sha256 ${before.keyHash.slice(0, 12)}…): revoked`,
      'tenant entry: status deleted',
      ...(purge ? [`ledger items of the tenant: ${purge.deleted} deleted`] : []),
    ],
    counts: {
      activeApiKeys: { before: keysBefore, after: await registry.countActiveKeys(id) },
      activeTenantEntries: { before: resuming ? 0 : 1, after: 0 },
      ...(purge ? { ledgerItems: { before: purge.deleted, after: purge.foundThisPass } } : {}),
    },
    retentionDays,
    data,
    authorizerCache,
    ...(resuming ? { resumedAfter: before.updatedAt } : {}),
  };
  // Only one call finishes: DELETEs racing on a resumed offboarding would otherwise each write evidence and release
  // the cell place. The finisher moves the tenant's version on; a call that loses answers 409 and changes nothing.
  const finished: TenantItem = { ...after, version: after.version + 1, updatedAt: at };
  if (!(await registry.replaceTenant(finished, after.version))) {
    throw new DomainError('tenant_changed', `Tenant "${id}" is being offboarded by another call meanwhile; GET it`);
  }
  await registry.putEvidence(evidence);
  if (before.isolation === 'pool') await registry.releaseCellPlace(before.cell, at);
  return { status: 200 as const, body: { tenant: tenantView(finished), evidence } };
}
