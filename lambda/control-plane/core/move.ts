/**
 * Moving a tenant between the two models. The tenant keeps its id, its history (request records) and its month's
 * usage and budget counters: the registry item changes model here, and the ledger items are copied by the operator
 * with `npm run tenant:move-ledger` (scripts/move-ledger.ts) while the tenant is suspended.
 *
 * **Silo → pool** (`POST /v1/tenants/{id}/move` with `{"to": "pool"}`, {@link moveTenantToPool}), one write at a
 * time, ordered as onboarding's (core/onboard.ts) so that a crash between two writes leaves no key working that the
 * caller was not given:
 *
 * 1. the stored document with `isolation: pool` is checked with the tenant file schema (a silo document may not fit
 *    a pool, e.g. a rate above the pooled ceiling: 422 `invalid_tenant`, nothing written);
 * 2. a place in the first cell with room is reserved (crash after: the cell counts one tenant too many);
 * 3. the pooled key is written `pending` (crash after: a key nobody holds and nobody accepts);
 * 4. the tenant item becomes pooled: isolation `pool`, the cell, the key's hash, the document's `isolation: pool`,
 *    version + 1, and status `suspended` unless the body says `"activate": true` (crash after: a pooled tenant
 *    without a working key; `PATCH {"rotateKey": true}` gives it one);
 * 5. the audit entry `move` (before, after);
 * 6. the key is activated; only now is it shown (once).
 *
 * The silo stack is not touched: its API keeps answering from its own ledger until its key is disabled or the stack
 * is destroyed. That is why the pooled tenant starts suspended: the operator stops the silo API, copies the ledger,
 * then resumes. The registration of the silo file (SILO_REGISTRATION) leaves a pooled tenant alone when the file is
 * removed or set to `isolation: pool` (its Delete changes only silo items: core/silo-registration.ts).
 *
 * **Pool → silo** is made by a tenant file and deploys: once the tenant's stack is deployed and its ledger copied,
 * the control plane's deploy creates the file's registration, whose Create finds the pooled item and converts it
 * ({@link convertPooledToSilo}).
 */
import { z } from 'zod';
import { DomainError } from '../../shared/errors';
import { hashApiKey, SILO_NO_KEY_HASH, type TenantItem } from '../../shared/registry-schema';
import type { TenantConfig } from '../../shared/tenant-file/tenant-config';
import { TENANT_ID_PATTERN } from '../../shared/tenant-vocabulary';
import { type AuthorizerCacheOutcome, flushAuthorizerCache } from './authorizer-cache';
import { getTenant } from './manage';
import { placeInCell } from './onboard';
import type { ControlPlaneDeps } from './ports';
import { notificationsField, syncReviewerSubscriptions } from './reviewer-subscriptions';
import { configParts, resolveDocument, tenantView } from './tenant-items';

/** Largest body of `POST /v1/tenants/{id}/move` (`{"to": "pool", "activate": true}` is 30 bytes). */
export const MAX_MOVE_BODY_BYTES = 1024;

/** The models a tenant may be moved to through this API, and how the other one is reached. */
export const MOVE_TARGETS = ['pool'] as const;

/** The body of `POST /v1/tenants/{id}/move`. */
export const MoveRequestSchema = z.strictObject({
  to: z.string().max(64),
  activate: z.boolean().optional(),
});
export type MoveRequest = z.infer<typeof MoveRequestSchema>;

/** How a pooled tenant gets a stack of its own (the refusal of `{"to": "silo"}` and of a second move says it). */
const TO_SILO_HOW = (id: string) =>
  `a tenant moves to a silo by its file and deploys: suspend it (PATCH {"suspend": true}), set isolation: silo in tenants/${id}.yaml and deploy its stack (npx cdk deploy --exclusively Switchboard-Tenant-${id} -c tenant=${id}), copy its ledger (npm run tenant:move-ledger -- --direction pool-to-silo), then deploy the control plane, whose registration of the file converts the pooled tenant (README, "Moving a tenant between the models")`;

/** The checked move request, or 400 / 422 naming what is wrong. */
export function parseMove(id: string, body: object): MoveRequest {
  const r = MoveRequestSchema.safeParse(body);
  if (!r.success) {
    const text = r.error.issues.map((i) =>
      i.code === 'unrecognized_keys'
        ? `${i.keys.join(', ')}: unknown field; a move holds "to" and, optionally, "activate"`
        : `${i.path.join('.') || '(body)'}: ${i.message}`,
    );
    throw new DomainError('invalid_request', `Invalid move: ${text.join('; ')}`);
  }
  const { to } = r.data;
  if (to === 'silo') throw new DomainError('silo_tenant', `"to": "silo" is not an API call: ${TO_SILO_HOW(id)}`);
  if (!(MOVE_TARGETS as readonly string[]).includes(to)) {
    throw new DomainError(
      'invalid_request',
      `to: got ${JSON.stringify(to)}; must be "pool" (a silo tenant into a pool cell); a pooled tenant moves to a silo by its file and deploys`,
    );
  }
  return r.data;
}

/** The id of a path, or 400 (it is never looked up when it cannot be a tenant's). */
function checkedId(id: string): string {
  if (!TENANT_ID_PATTERN.test(id)) {
    throw new DomainError(
      'invalid_request',
      `id: got ${JSON.stringify(id.slice(0, 64))}; a tenant id is lowercase letters, digits and "-" (${TENANT_ID_PATTERN.source})`,
    );
  }
  return id;
}

/** Moves silo tenant `id` into a pool cell; returns it (pooled) and its new API key, shown this once. */
export async function moveTenantToPool(deps: ControlPlaneDeps, rawId: string, body: object, who: string) {
  const id = checkedId(rawId);
  const request = parseMove(id, body);
  const before = await getTenant(deps, id);
  if (before.status === 'deleted') {
    throw new DomainError('tenant_deleted', `Tenant "${id}" was offboarded; a deleted tenant cannot be moved`);
  }
  if (before.isolation === 'pool') {
    throw new DomainError(
      'already_pooled',
      `Tenant "${id}" is pooled already (cell ${before.cell}); nothing was changed. A pooled tenant without a working key gets one with PATCH {"rotateKey": true}; to give it a stack of its own: ${TO_SILO_HOW(id)}`,
    );
  }
  // The stored document says its isolation, as onboarding's does, so a later change of plan keeps it pooled.
  const document: Record<string, unknown> = { ...before.document, isolation: 'pool' };
  const tenant = resolveDocument(document);
  if (tenant.id !== id) {
    throw new DomainError('invalid_tenant', `The stored document of "${id}" names "${tenant.id}"; nothing was moved`);
  }
  const { registry } = deps;
  const at = new Date(deps.now()).toISOString();
  const cell = await placeInCell(deps, at);
  const apiKey = deps.newApiKey();
  const keyHash = hashApiKey(apiKey);
  if (!(await registry.putNewKey({ keyHash, tenantId: id, status: 'pending', createdAt: at, updatedAt: at }))) {
    await registry.releaseCellPlace(cell, at);
    throw new Error('API key hash collision');
  }
  const after: TenantItem = {
    ...before,
    ...configParts(tenant, document),
    cell,
    status: request.activate ? 'active' : 'suspended',
    keyHash,
    version: before.version + 1,
    updatedAt: at,
  };
  if (!(await registry.replaceTenant(after, before.version))) {
    // Changed by another call since the read: undo what this call wrote, then refuse.
    await registry.setKeyStatus(keyHash, 'revoked', ['pending'], at);
    await registry.releaseCellPlace(cell, at);
    throw new DomainError('tenant_changed', `Tenant "${id}" was changed by another call meanwhile; GET it and retry`);
  }
  await registry.appendAudit({
    tenantId: id,
    action: 'move',
    who,
    at,
    before: tenantView(before),
    after: tenantView(after),
  });
  await registry.setKeyStatus(keyHash, 'active', ['pending'], at);
  const { item: stored, outcome } = await syncReviewerSubscriptions(deps, after);
  // A cell `pool-<n>` is served by the stack `Switchboard-Pool-<n>` (lambda/shared/pool-runtime.ts).
  const cellStack = `Switchboard-Pool-${cell.replace(/^pool-/, '')}`;
  const next = [
    `disable the silo API's key so it takes no more requests (aws apigateway update-api-key --api-key <ApiKeyId output of Switchboard-Tenant-${id}> --patch-operations op=replace,path=/enabled,value=false)`,
    `copy the ledger: npm run tenant:move-ledger -- --tenant ${id} --direction silo-to-pool --from-table <LedgerTable output of Switchboard-Tenant-${id}> --to-table <LedgerTable output of ${cellStack}> --registry-table <RegistryTable output of Switchboard-ControlPlane>`,
    ...(request.activate ? [] : [`resume it: PATCH /v1/tenants/${id} {"resume": true}`]),
    `destroy the silo stack while tenants/${id}.yaml still says silo (npx cdk destroy Switchboard-Tenant-${id} -c tenant=${id}), then set isolation: pool in the file (or remove it) and deploy the control plane (npx cdk deploy --exclusively Switchboard-ControlPlane): the removed registration leaves the pooled tenant alone`,
  ];
  return { tenant: tenantView(stored), apiKey, next, ...notificationsField(outcome) };
}

/** What a conversion from the pool did. */
export interface PooledToSilo {
  readonly item: TenantItem;
  readonly fromCell: string;
  readonly authorizerCache: AuthorizerCacheOutcome;
}

/**
 * Converts pooled tenant `existing` (not deleted; the caller checked the document names it) into silo tenant
 * `tenant` with document `stored`, one write at a time:
 *
 * 1. the tenant item becomes a silo (isolation `silo`, cell `silo`, no key hash, version + 1, status kept): from this
 *    write on the pooled key is refused, since a key is accepted only while its tenant names its hash;
 * 2. the pooled key item is revoked (so no count or listing reads it as active);
 * 3. the cell's authorizer cache is flushed (a refused key is refused at once, not after the cache's 60 s);
 * 4. the audit entry `move` (before, after, the flush);
 * 5. the cell place is released (crash before: the cell counts one tenant too many, never too few).
 */
export async function convertPooledToSilo(
  deps: Pick<ControlPlaneDeps, 'registry' | 'now' | 'cells' | 'authorizerCache'>,
  existing: TenantItem,
  tenant: TenantConfig,
  stored: Record<string, unknown>,
  who: string,
): Promise<PooledToSilo> {
  const { registry } = deps;
  const at = new Date(deps.now()).toISOString();
  const item: TenantItem = {
    ...existing,
    ...configParts(tenant, stored),
    cell: 'silo',
    keyHash: SILO_NO_KEY_HASH,
    version: existing.version + 1,
    updatedAt: at,
  };
  if (!(await registry.replaceTenant(item, existing.version))) {
    throw new DomainError('tenant_changed', `Tenant "${existing.tenantId}" changed meanwhile; retry the deploy`);
  }
  await registry.setKeyStatus(existing.keyHash, 'revoked', ['pending', 'active'], at);
  const authorizerCache = await flushAuthorizerCache(deps, existing);
  await registry.appendAudit({
    tenantId: existing.tenantId,
    action: 'move',
    who,
    at,
    authorizerCache,
    before: tenantView(existing),
    after: tenantView(item),
  });
  await registry.releaseCellPlace(existing.cell, at);
  return { item, fromCell: existing.cell, authorizerCache };
}
