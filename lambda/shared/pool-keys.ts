/**
 * The pooled ledger's key layout: every item of a pool cell's ledger table has a partition key that starts with
 * `T#<tenantId>#`, followed by the silo ledger's own key (`T#acme#REQ#<requestId>`, `T#acme#USAGE#2026-12`). The
 * tenant-access role (lib/constructs/pool) allows the table only where `dynamodb:LeadingKeys` match
 * `T#${aws:PrincipalTag/switchboard:tenant}#*`, so a session tagged for one tenant cannot name another tenant's
 * items, whatever our code puts in the key. Tenant ids are `[a-z0-9-]` (TENANT_ID_PATTERN), so they
 * contain neither `#` nor an IAM wildcard, and `T#a#` is never a prefix of `T#ab#…`.
 */
import { TENANT_ID_PATTERN } from './tenant-vocabulary';

/** The prefix every pooled partition key starts with; the tenant id follows, then {@link POOL_KEY_SEPARATOR}. */
export const POOL_TENANT_KEY_PREFIX = 'T#';
/** Ends the tenant id in a pooled partition key. */
export const POOL_KEY_SEPARATOR = '#';
/** The session tag (and principal tag) carrying the tenant id of a tenant-scoped session. */
export const TENANT_SESSION_TAG = 'switchboard:tenant';
/** The KMS encryption context key naming the tenant of pooled ciphertext. */
export const TENANT_ENCRYPTION_CONTEXT_KEY = 'tenant';

/** The partition key prefix of `tenantId`'s items: `T#<tenantId>#`. Throws on an id that is not a tenant id. */
export function poolTenantPrefix(tenantId: string): string {
  if (!TENANT_ID_PATTERN.test(tenantId)) throw new Error(`Not a tenant id: ${JSON.stringify(tenantId.slice(0, 40))}`);
  return `${POOL_TENANT_KEY_PREFIX}${tenantId}${POOL_KEY_SEPARATOR}`;
}

/** A pooled partition key: the tenant's prefix followed by the silo ledger's key (`REQ#…`, `USAGE#…`). */
export function poolPartitionKey(tenantId: string, siloKey: string): string {
  return `${poolTenantPrefix(tenantId)}${siloKey}`;
}

/** The tenant of a pooled partition key, or undefined when it is not one. */
export function tenantOfPoolKey(pk: string): string | undefined {
  if (!pk.startsWith(POOL_TENANT_KEY_PREFIX)) return undefined;
  const end = pk.indexOf(POOL_KEY_SEPARATOR, POOL_TENANT_KEY_PREFIX.length);
  const id = end < 0 ? '' : pk.slice(POOL_TENANT_KEY_PREFIX.length, end);
  return TENANT_ID_PATTERN.test(id) ? id : undefined;
}

/** The IAM pattern of the partition keys a tenant-tagged session may lead with (for `dynamodb:LeadingKeys`). */
export const POOL_LEADING_KEYS_PATTERN = `${POOL_TENANT_KEY_PREFIX}\${aws:PrincipalTag/${TENANT_SESSION_TAG}}${POOL_KEY_SEPARATOR}*`;

/** The IAM value the encryption context's tenant must equal (for `kms:EncryptionContext:tenant`). */
export const POOL_ENCRYPTION_CONTEXT_VALUE = `\${aws:PrincipalTag/${TENANT_SESSION_TAG}}`;
