/**
 * Offboarding (`DELETE /v1/tenants/{id}`), one write at a time:
 *
 * 1. the key is revoked, so the tenant is refused from the next request on, whatever happens after;
 * 2. the tenant item becomes `deleted` (kept: the id is never reused and the audit trail keeps its subject);
 * 3. the audit entry;
 * 4. the evidence record: what was deleted, counts before and after, when (last of the record-keeping: its
 *    presence says the offboarding is complete, so a retry stops there);
 * 5. the tenant's cell place is released (crash before: the cell counts one tenant too many, never too few).
 *
 * A DELETE retried after a crash goes on from where it stopped: a deleted tenant without evidence gets its
 * audit entry (again, if the crash came after the first), evidence (marked `resumedAfter`) and place release;
 * one with evidence is 409 `tenant_deleted`.
 *
 * The tenant's request records in its pool cell's ledger expire with their TTL (the tenant's retention days);
 * purging them at once is the pool cell's part (not in this slice).
 */
import { DomainError } from '../../shared/errors';
import type { TenantItem } from '../../shared/registry-schema';
import { getTenant } from './manage';
import type { ControlPlaneDeps, OffboardEvidence } from './ports';
import { tenantView } from './tenant-items';

/** Offboards a tenant; returns it (status `deleted`) and the evidence record. */
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
  const keysBefore = await registry.countActiveKeys(id);
  let after: TenantItem = before;
  if (!resuming) {
    await registry.setKeyStatus(before.keyHash, 'revoked', ['pending', 'active'], at);
    after = { ...before, status: 'deleted', version: before.version + 1, updatedAt: at };
    if (!(await registry.replaceTenant(after, before.version))) {
      throw new DomainError('tenant_changed', `Tenant "${id}" was changed by another call meanwhile; retry the DELETE`);
    }
  }
  const evidence: OffboardEvidence = {
    tenantId: id,
    who,
    at,
    deleted: [`API key (sha256 ${before.keyHash.slice(0, 12)}…): revoked`, 'tenant entry: status deleted'],
    counts: {
      activeApiKeys: { before: keysBefore, after: await registry.countActiveKeys(id) },
      activeTenantEntries: { before: resuming ? 0 : 1, after: 0 },
    },
    retentionDays: Number(before.runtime.dataRetentionDays ?? 0),
    ...(resuming ? { resumedAfter: before.updatedAt } : {}),
  };
  const audit = { tenantId: id, action: 'delete', who, at, before: tenantView(before), after: tenantView(after) };
  await registry.appendAudit(audit);
  await registry.putEvidence(evidence);
  if (before.isolation === 'pool') await registry.releaseCellPlace(before.cell, at);
  return { tenant: tenantView(after), evidence };
}
