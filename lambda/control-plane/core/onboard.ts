/**
 * Onboarding a pooled tenant (`POST /v1/tenants`). The registry has no transactions, so the writes are ordered
 * such that a crash between any two of them leaves nothing usable half-made (a key is accepted only when its
 * own item is `active` AND its tenant is `active` and names that key's hash):
 *
 * 1. a place in a cell is reserved (crash after: the cell counts one tenant too many; it never over-fills);
 * 2. the key item is written `pending` (crash after: a key nobody holds and nobody accepts);
 * 3. the tenant item is written (crash after: the tenant exists without an accepted key; the caller got a 500,
 *    a retry gets 409, and `PATCH {"rotateKey": true}` gives it a working key);
 * 4. the audit entry is written (so a usable tenant always has its creation in the trail);
 * 5. the key is activated: only now can the tenant call its API, and only now is the key shown (once).
 *
 * Validation comes first: a refused document writes nothing.
 */
import { DomainError } from '../../shared/errors';
import { hashApiKey, type TenantItem } from '../../shared/registry-schema';
import type { ControlPlaneDeps } from './ports';
import { notificationsField, syncReviewerSubscriptions } from './reviewer-subscriptions';
import { newTenantItem, resolveDocument, tenantView } from './tenant-items';

/** How silo tenants are added, for the refusal of one. */
const SILO_HOW =
  'silo tenants get a stack of their own: add tenants/<id>.yaml and deploy it (npx cdk deploy -c tenant=<id>); ' +
  "only pooled tenants (isolation: pool, the basic plan's default) are onboarded through this API";

/** Creates a pooled tenant from a tenant document; returns the tenant and its API key (shown this once). */
export async function onboardTenant(deps: ControlPlaneDeps, document: object, who: string) {
  const tenant = resolveDocument(document);
  if (tenant.isolation === 'silo') {
    throw new DomainError('silo_tenant', `Tenant "${tenant.id}" has isolation "silo": ${SILO_HOW}`);
  }
  const { registry } = deps;
  if (await registry.getTenant(tenant.id)) throw tenantExists(tenant.id);
  const at = new Date(deps.now()).toISOString();
  const cell = await placeInCell(deps, at);
  const apiKey = deps.newApiKey();
  const keyHash = hashApiKey(apiKey);
  // The stored document says its isolation, so a later change of plan does not move the tenant out of its pool.
  const stored = { ...(document as Record<string, unknown>), isolation: tenant.isolation };
  const item: TenantItem = newTenantItem(tenant, stored, cell, apiKey, at);
  if (!(await registry.putNewKey({ keyHash, tenantId: tenant.id, status: 'pending', createdAt: at, updatedAt: at }))) {
    throw new Error('API key hash collision');
  }
  if (!(await registry.putNewTenant(item))) {
    // Created by a concurrent call since the check: undo what this call wrote, then refuse.
    await registry.setKeyStatus(keyHash, 'revoked', ['pending'], at);
    await registry.releaseCellPlace(cell, at);
    throw tenantExists(tenant.id);
  }
  await registry.appendAudit({ tenantId: tenant.id, action: 'create', who, at, after: tenantView(item) });
  await registry.setKeyStatus(keyHash, 'active', ['pending'], at);
  // Its reviewers are told about its reviews (best effort: a failure is in the answer; PATCH retries it).
  const synced = await syncReviewerSubscriptions(deps, item);
  return { tenant: tenantView(synced.item), apiKey, ...notificationsField(synced.outcome) };
}

function tenantExists(id: string): DomainError {
  return new DomainError(
    'tenant_exists',
    `Tenant "${id}" already exists (tenant ids are never reused, deleted tenants included); choose another id, or change it with PATCH /v1/tenants/${id}`,
  );
}

/** The first cell with room (a place is reserved in it), or 503 when every cell is full. */
export async function placeInCell(deps: ControlPlaneDeps, at: string): Promise<string> {
  for (const cell of deps.cells) {
    if (await deps.registry.reserveCellPlace(cell.id, cell.capacity, at)) return cell.id;
  }
  const total = deps.cells.reduce((n, c) => n + c.capacity, 0);
  throw new DomainError(
    'pool_full',
    `Every pool cell is full (${deps.cells.length} cells, ${total} tenants); add a cell to the configuration and deploy it, then retry`,
    3600,
  );
}
