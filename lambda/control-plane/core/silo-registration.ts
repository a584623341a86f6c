/**
 * Silo tenants in the registry. A silo tenant is added by its file and a deploy; the control plane stack holds one
 * custom resource per silo tenant file (SILO_REGISTRATION), and its events land here:
 *
 * - Create / Update: the tenant item is written from the document (the file as JSON, checked with the same schema
 *   as synth): isolation `silo`, cell `silo`, no API key item (a silo tenant's keys are its API's API Gateway keys),
 *   with an audit entry. An update keeps the tenant's status (a suspension survives a deploy); a tenant offboarded
 *   before and deployed again is registered again (`active`).
 * - Create for an id whose item is pooled and not deleted: the tenant moves from the pool to its silo (its file now
 *   says `isolation: silo`, its stack is deployed and its ledger copied): core/move.ts `convertPooledToSilo`. An
 *   Update never converts (a file still saying silo after the tenant was moved to the pool is refused, so a deploy
 *   cannot undo a move), and a deleted pooled id is refused (ids are never reused).
 * - Delete: the item is marked `deleted` with an audit entry and an evidence record: the stack is destroyed and its
 *   key scheduled for deletion after the pending window (crypto-shredding, lambda/shared/silo-key.ts). Only a silo
 *   item is touched: a tenant moved to the pool since (its file removed or set to `isolation: pool`) is left alone.
 */
import { DomainError } from '../../shared/errors';
import { SILO_NO_KEY_HASH, TENANT_KIND, type TenantItem } from '../../shared/registry-schema';
import { siloKeyPendingWindowDays } from '../../shared/silo-key';
import { convertPooledToSilo, type PooledToSilo } from './move';
import type { AuthorizerCachePort, OffboardEvidence, PoolCell, RegistryPort } from './ports';
import { configParts, resolveDocument, tenantView } from './tenant-items';

const DAY_MS = 86_400_000;

/** What the silo registration needs. */
export interface SiloRegistrationDeps {
  readonly registry: RegistryPort;
  readonly now: () => number;
  /** The pool cells (a tenant moving from the pool leaves its cell: its authorizer cache is flushed). */
  readonly cells: readonly PoolCell[];
  readonly authorizerCache: AuthorizerCachePort;
}

/** What a registration did: the tenant item, and the move from the pool when it converted a pooled tenant. */
export interface SiloRegistration {
  readonly item: TenantItem;
  readonly moved?: Omit<PooledToSilo, 'item'>;
}

/**
 * Writes or updates the registry item of silo tenant `tenantId` from its document (`requestType` is the custom
 * resource's: only a Create converts a pooled tenant); returns it.
 */
export async function registerSiloTenant(
  deps: SiloRegistrationDeps,
  tenantId: string,
  document: Record<string, unknown>,
  who: string,
  requestType: 'Create' | 'Update' = 'Create',
): Promise<SiloRegistration> {
  const tenant = resolveDocument(document);
  if (tenant.id !== tenantId) {
    throw new DomainError('invalid_tenant', `TenantId is "${tenantId}" but the document's id is "${tenant.id}"`);
  }
  if (tenant.isolation !== 'silo') {
    throw new DomainError(
      'invalid_tenant',
      `Tenant "${tenantId}" has isolation "${tenant.isolation}": pooled tenants are onboarded through POST /v1/tenants, not registered by a stack`,
    );
  }
  const { registry } = deps;
  const at = new Date(deps.now()).toISOString();
  const stored = { ...document, isolation: 'silo' };
  const existing = await registry.getTenant(tenantId);
  if (existing && existing.isolation !== 'silo') {
    if (existing.status === 'deleted') {
      throw new DomainError(
        'tenant_deleted',
        `Tenant id "${tenantId}" belonged to a pooled tenant offboarded at ${existing.updatedAt} (ids are never reused, deleted tenants included); choose another id for the silo tenant`,
      );
    }
    if (requestType !== 'Create') {
      throw new DomainError(
        'already_pooled',
        `Tenant "${tenantId}" was moved to the pool (cell ${existing.cell}) but tenants/${tenantId}.yaml still says isolation: silo; nothing was changed. Set isolation: pool in the file (or remove it) and deploy the control plane; to move the tenant back to a silo, follow the pool-to-silo steps (README, "Moving a tenant between the models")`,
      );
    }
    const { item, ...moved } = await convertPooledToSilo(deps, existing, tenant, stored, who);
    return { item, moved };
  }
  const item: TenantItem = {
    tenantId,
    kind: TENANT_KIND,
    ...configParts(tenant, stored),
    cell: 'silo',
    status: existing && existing.status !== 'deleted' ? existing.status : 'active',
    keyHash: SILO_NO_KEY_HASH,
    version: (existing?.version ?? 0) + 1,
    createdAt: existing?.createdAt ?? at,
    updatedAt: at,
  };
  const written = existing ? await registry.replaceTenant(item, existing.version) : await registry.putNewTenant(item);
  if (!written) throw new DomainError('tenant_changed', `Tenant "${tenantId}" changed meanwhile; retry the deploy`);
  const action = !existing ? 'register' : existing.status === 'deleted' ? 'register-again' : 'update';
  await registry.appendAudit({
    tenantId,
    action,
    who,
    at,
    ...(existing ? { before: tenantView(existing) } : {}),
    after: tenantView(item),
  });
  return { item };
}

/** Marks silo tenant `tenantId` deleted, with its evidence; nothing when it is not a registered silo tenant. */
export async function deregisterSiloTenant(
  deps: SiloRegistrationDeps,
  tenantId: string,
  who: string,
): Promise<OffboardEvidence | undefined> {
  const { registry } = deps;
  const existing = await registry.getTenant(tenantId);
  if (existing?.isolation !== 'silo' || existing.status === 'deleted') return undefined;
  const at = new Date(deps.now()).toISOString();
  const after: TenantItem = { ...existing, status: 'deleted', version: existing.version + 1, updatedAt: at };
  if (!(await registry.replaceTenant(after, existing.version))) {
    throw new DomainError('tenant_changed', `Tenant "${tenantId}" changed meanwhile; retry`);
  }
  await registry.appendAudit({
    tenantId,
    action: 'delete',
    who,
    at,
    before: tenantView(existing),
    after: tenantView(after),
  });
  const retentionDays = Number(existing.runtime.dataRetentionDays ?? 0);
  const windowDays = siloKeyPendingWindowDays(retentionDays);
  const evidence: OffboardEvidence = {
    tenantId,
    who,
    at,
    deleted: [
      'tenant entry: status deleted',
      `stack destroyed; key scheduled for deletion after ${windowDays} days (KMS pending window, from dataRetentionDays ${retentionDays})`,
    ],
    counts: { activeTenantEntries: { before: 1, after: 0 } },
    retentionDays,
    data: {
      policy: 'crypto-shred',
      keyDeletionAfter: new Date(Date.parse(at) + windowDays * DAY_MS).toISOString(),
      how: "the retained ledger and its backups become unreadable when the tenant's KMS key is deleted",
    },
  };
  await registry.putEvidence(evidence);
  return evidence;
}
