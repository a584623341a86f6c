/**
 * Reading and changing tenants: `GET /v1/tenants`, `GET /v1/tenants/{id}`, `PATCH /v1/tenants/{id}`. A change
 * of plan, budget or limits is applied to the stored tenant document and checked again with the tenant file
 * schema (same messages as a file); suspend and resume change the status the key lookup reads, so they take
 * effect on the next request (and at once at the pool authorizer: its cache is flushed, core/authorizer-cache.ts);
 * `rotateKey` issues a new key (shown once) and revokes the old one.
 */
import { z } from 'zod';
import { DomainError } from '../../shared/errors';
import { hashApiKey, type TenantItem } from '../../shared/registry-schema';
import { flushAuthorizerCache } from './authorizer-cache';
import type { ControlPlaneDeps } from './ports';
import { notificationsField, syncReviewerSubscriptions } from './reviewer-subscriptions';
import { configParts, resolveDocument, tenantView } from './tenant-items';

/** Page sizes of `GET /v1/tenants`. */
export const PAGE_LIMITS = { default: 50, max: 100 } as const;

/**
 * What a PATCH may change: these tenant-file fields (any value here: they are checked with the whole document,
 * by the tenant file schema, so a bad value gets a file's message and 422) and three actions.
 */
export const TenantPatchSchema = z.strictObject({
  plan: z.unknown().optional(),
  monthlyBudgetUsd: z.unknown().optional(),
  throttle: z.unknown().optional(),
  quota: z.unknown().optional(),
  limits: z.unknown().optional(),
  offboarding: z.unknown().optional(),
  escalation: z.unknown().optional(),
  suspend: z.literal(true).optional(),
  resume: z.literal(true).optional(),
  rotateKey: z.literal(true).optional(),
});
export type TenantPatch = z.infer<typeof TenantPatchSchema>;

const DOCUMENT_FIELDS = [
  'plan',
  'monthlyBudgetUsd',
  'throttle',
  'quota',
  'limits',
  'offboarding',
  'escalation',
] as const;

/** A tenant, or 404. */
export async function getTenant(deps: ControlPlaneDeps, id: string): Promise<TenantItem> {
  const item = await deps.registry.getTenant(id);
  if (!item) throw new DomainError('not_found', `No tenant "${id}"; GET /v1/tenants lists the tenants`);
  return item;
}

/** One page of tenants by id; `limit` and `cursor` as the query gives them. */
export async function listTenants(deps: ControlPlaneDeps, limit: string | undefined, cursor: string | undefined) {
  const n = limit === undefined ? PAGE_LIMITS.default : Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > PAGE_LIMITS.max) {
    throw new DomainError(
      'invalid_request',
      `limit: got ${JSON.stringify(limit)}; must be an integer from 1 to ${PAGE_LIMITS.max}`,
    );
  }
  const page = await deps.registry.listTenants(n, cursor);
  return { tenants: page.items.map(tenantView), ...(page.cursor ? { nextCursor: page.cursor } : {}) };
}

/** The checked patch, or 400 naming the field. */
export function parsePatch(body: object): TenantPatch {
  const r = TenantPatchSchema.safeParse(body);
  if (!r.success) {
    const allowed = Object.keys(TenantPatchSchema.shape).join(', ');
    const text = r.error.issues.map((i) =>
      i.code === 'unrecognized_keys'
        ? `${i.keys.join(', ')}: not changeable here; a change may hold: ${allowed}`
        : `${i.path.join('.')}: ${i.message}`,
    );
    throw new DomainError('invalid_request', `Invalid change: ${text.join('; ')}`);
  }
  const p = r.data;
  if (Object.keys(p).length === 0) {
    throw new DomainError(
      'invalid_request',
      `Empty change; send one or more of: ${Object.keys(TenantPatchSchema.shape).join(', ')}`,
    );
  }
  if (p.suspend && p.resume) throw new DomainError('invalid_request', 'suspend, resume: send one of them, not both');
  return p;
}

/** The tenant with the patch's document fields and status applied (key changes are done by the caller). */
export function patched(item: TenantItem, p: TenantPatch, at: string): TenantItem {
  let next: TenantItem = { ...item, version: item.version + 1, updatedAt: at };
  if (DOCUMENT_FIELDS.some((f) => p[f] !== undefined)) {
    const document: Record<string, unknown> = { ...item.document };
    for (const f of DOCUMENT_FIELDS) if (p[f] !== undefined) document[f] = p[f];
    next = { ...next, ...configParts(resolveDocument(document), document) };
  }
  if (p.suspend) next = { ...next, status: 'suspended' };
  if (p.resume) next = { ...next, status: 'active' };
  return next;
}

/** Applies a change; returns the tenant and, after `rotateKey`, the new key (shown this once). */
export async function patchTenant(deps: ControlPlaneDeps, id: string, body: object, who: string) {
  const p = parsePatch(body);
  const before = await getTenant(deps, id);
  if (before.status === 'deleted') {
    throw new DomainError('tenant_deleted', `Tenant "${id}" was offboarded; a deleted tenant cannot be changed`);
  }
  if (before.isolation === 'silo' && (p.rotateKey || DOCUMENT_FIELDS.some((f) => p[f] !== undefined))) {
    // The file is the silo tenant's source of truth, and its key is its stack's: a change here would not last.
    throw new DomainError(
      'silo_tenant',
      `Tenant "${id}" is a silo: change tenants/${id}.yaml and deploy its stack (suspend and resume work here)`,
    );
  }
  const at = new Date(deps.now()).toISOString();
  let after = patched(before, p, at);
  const { registry } = deps;
  let apiKey: string | undefined;
  if (p.rotateKey) {
    // New key pending → tenant names it → old key revoked → audit → new key active (core/onboard.ts explains).
    apiKey = deps.newApiKey();
    after = { ...after, keyHash: hashApiKey(apiKey) };
    await registry.putNewKey({ keyHash: after.keyHash, tenantId: id, status: 'pending', createdAt: at, updatedAt: at });
  }
  if (!(await registry.replaceTenant(after, before.version))) {
    throw new DomainError('tenant_changed', `Tenant "${id}" was changed by another call meanwhile; GET it and retry`);
  }
  if (p.rotateKey) await registry.setKeyStatus(before.keyHash, 'revoked', ['pending', 'active'], at);
  // A status or key change reaches the authorizer at once only when its cache is flushed (core/authorizer-cache.ts).
  const flushed =
    p.suspend || p.resume || p.rotateKey ? { authorizerCache: await flushAuthorizerCache(deps, after) } : {};
  const action = actionOf(p);
  const audit = { tenantId: id, action, who, at, ...flushed };
  await registry.appendAudit({ ...audit, before: tenantView(before), after: tenantView(after) });
  if (apiKey) await registry.setKeyStatus(after.keyHash, 'active', ['pending'], at);
  // Reviewer e-mails or review threshold changed (or a failed subscription from before): told to the cell's topic.
  const { item: stored, outcome } = await syncReviewerSubscriptions(deps, after);
  return { tenant: tenantView(stored), ...flushed, ...(apiKey ? { apiKey } : {}), ...notificationsField(outcome) };
}

/** The audit action of a patch: `update`, `suspend`, `resume`, `rotateKey`, joined by `+`. */
function actionOf(p: TenantPatch): string {
  const parts = [
    ...(DOCUMENT_FIELDS.some((f) => p[f] !== undefined) ? ['update'] : []),
    ...(['suspend', 'resume', 'rotateKey'] as const).filter((a) => p[a]),
  ];
  return parts.join('+');
}
