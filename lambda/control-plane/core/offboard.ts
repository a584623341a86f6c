/**
 * Offboarding (`DELETE /v1/tenants/{id}`): the key is revoked first, so the tenant is refused from the next
 * request on whatever happens after; then the tenant item becomes `deleted` (kept, so the id is never reused and
 * the audit trail has its subject), its cell place is released, and an evidence record says what was deleted,
 * with counts before and after, and when. A retried DELETE after a crash finds the key revoked and goes on.
 *
 * The tenant's request records in its pool cell's ledger expire with their TTL (the tenant's retention days,
 * in the record); purging them at once is the pool cell's part (not in this slice).
 */
import { DomainError } from '../../shared/errors';
import { getTenant } from './manage';
import type { ControlPlaneDeps, OffboardEvidence } from './ports';
import { tenantView } from './tenant-items';

/** Offboards a tenant; returns it (status `deleted`) and the evidence record. */
export async function offboardTenant(deps: ControlPlaneDeps, id: string, who: string) {
  const before = await getTenant(deps, id);
  if (before.status === 'deleted') {
    throw new DomainError('tenant_deleted', `Tenant "${id}" was already offboarded (evidence: GET /v1/tenants/${id})`);
  }
  const { registry } = deps;
  const at = new Date(deps.now()).toISOString();
  const keysBefore = await registry.countActiveKeys(id);
  await registry.setKeyStatus(before.keyHash, 'revoked', ['pending', 'active'], at);
  const after = { ...before, status: 'deleted' as const, version: before.version + 1, updatedAt: at };
  if (!(await registry.replaceTenant(after, before.version))) {
    throw new DomainError('tenant_changed', `Tenant "${id}" was changed by another call meanwhile; retry the DELETE`);
  }
  if (before.isolation === 'pool') await registry.releaseCellPlace(before.cell, at);
  const evidence: OffboardEvidence = {
    tenantId: id,
    who,
    at,
    deleted: [`API key (sha256 ${before.keyHash.slice(0, 12)}…): revoked`, `tenant entry: status deleted`],
    counts: {
      activeApiKeys: { before: keysBefore, after: await registry.countActiveKeys(id) },
      activeTenantEntries: { before: 1, after: 0 },
      cellPlaces: { before: before.isolation === 'pool' ? 1 : 0, after: 0 },
    },
    retentionDays: Number(before.runtime.dataRetentionDays ?? 0),
  };
  await registry.putEvidence(evidence);
  await registry.appendAudit({
    tenantId: id,
    action: 'delete',
    who,
    at,
    before: tenantView(before),
    after: tenantView(after),
  });
  return { tenant: tenantView(after), evidence };
}
