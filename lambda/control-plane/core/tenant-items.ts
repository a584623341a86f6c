/** Tenant items from resolved tenants, and the view of a tenant the API returns (no key material). */
import { DomainError } from '../../shared/errors';
import { hashApiKey, TENANT_KIND, type TenantItem } from '../../shared/registry-schema';
import { OFFBOARDING_DATA_POLICIES, type OffboardingDataPolicy } from '../../shared/tenant-file/plan-defaults';
import { toPooledReviewSettings, toRuntimeConfig } from '../../shared/tenant-file/runtime-config';
import type { FieldProblem, TenantConfig } from '../../shared/tenant-file/tenant-config';
import { validateTenantDocument } from '../../shared/tenant-file/tenant-document';

/** How many problems a refusal lists before it only counts the rest. */
const PROBLEMS_SHOWN = 10;

/** A tenant document's problems as one 422 `invalid_tenant` (each `path: message`, as the tenant loader words them). */
export function invalidTenant(problems: readonly FieldProblem[]): DomainError {
  const shown = problems.slice(0, PROBLEMS_SHOWN).map((p) => `${p.path}: ${p.message}`);
  const more = problems.length > PROBLEMS_SHOWN ? `; … and ${problems.length - PROBLEMS_SHOWN} more` : '';
  return new DomainError(
    'invalid_tenant',
    `Invalid tenant document (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${shown.join('; ')}${more}`,
  );
}

/** The resolved tenant of a document, or a 422 naming every problem. */
export function resolveDocument(document: object): TenantConfig {
  const { tenant, problems } = validateTenantDocument(document);
  if (!tenant) throw invalidTenant(problems);
  return tenant;
}

/** The parts of a tenant item that follow from its resolved config. */
export function configParts(
  t: TenantConfig,
  document: Record<string, unknown>,
): Pick<TenantItem, 'plan' | 'isolation' | 'document' | 'runtime' | 'review' | 'throttle' | 'quota'> {
  return {
    plan: t.plan,
    isolation: t.isolation,
    document,
    runtime: toRuntimeConfig(t) as unknown as Record<string, unknown>,
    review: toPooledReviewSettings(t) as unknown as Record<string, unknown>,
    throttle: { ...t.throttle },
    quota: { ...t.quota },
  };
}

/** A new tenant item (version 1) for a pooled tenant placed in `cell`, accepting the key `apiKey`. */
export function newTenantItem(
  t: TenantConfig,
  document: Record<string, unknown>,
  cell: string,
  apiKey: string,
  at: string,
): TenantItem {
  return {
    tenantId: t.id,
    kind: TENANT_KIND,
    ...configParts(t, document),
    cell,
    status: 'active',
    keyHash: hashApiKey(apiKey),
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
}

/**
 * What offboarding does with the tenant's records (its document's `offboarding.data`; `retain` when absent). Read
 * from the stored document on its own, so a document an older schema accepted still says it.
 */
export function offboardingDataOf(item: TenantItem): OffboardingDataPolicy {
  const data = (item.document.offboarding as { data?: unknown } | undefined)?.data;
  return (OFFBOARDING_DATA_POLICIES as readonly unknown[]).includes(data) ? (data as OffboardingDataPolicy) : 'retain';
}

/** What the API shows of a tenant: everything but the key's hash. */
export function tenantView(item: TenantItem) {
  const { keyHash: _hash, kind: _kind, ...view } = item;
  return view;
}
