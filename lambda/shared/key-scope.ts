/**
 * Whose items a ledger adapter addresses: the one value the ledger, the review queue and the review store are
 * built with, so no call has to pass a tenant id along.
 *
 * - silo ({@link SILO_KEY_SCOPE}): the table is the tenant's own; keys are the ones of ledger-schema.ts and
 *   review-schema.ts, unchanged (`REQ#<id>`, `REVIEWS#pending`).
 * - pooled ({@link poolKeyScope}): the table is a pool cell's; every partition key, and every partition value of
 *   the review index, starts with the tenant's prefix `T#<tenant>#` (lambda/shared/pool-keys.ts), which is what
 *   the tenant-access role's `dynamodb:LeadingKeys` condition allows a session tagged with that tenant to name.
 *
 * A scope is made once per tenant (the pooled function caches one ledger per tenant) and frozen.
 */
import { poolTenantPrefix } from './pool-keys';

export interface KeyScope {
  /** What every partition key (and review index partition) starts with: `''` in a silo, `T#<tenant>#` in a pool. */
  readonly prefix: string;
  /** The pooled tenant the scope is for; absent in a silo. */
  readonly tenantId?: string;
}

/** A silo tenant's own table: keys as the key design writes them. */
export const SILO_KEY_SCOPE: KeyScope = Object.freeze({ prefix: '' });

/** A pooled tenant's items in its cell's shared table. Throws on anything that is not a tenant id. */
export function poolKeyScope(tenantId: string): KeyScope {
  return Object.freeze({ prefix: poolTenantPrefix(tenantId), tenantId });
}

/** `value` under `scope` (a partition key or a review index partition). */
export function scoped(scope: KeyScope, value: string): string {
  return `${scope.prefix}${value}`;
}

/** `value` without `scope`'s prefix; undefined when it does not carry it (another tenant's, or unscoped). */
export function unscoped(scope: KeyScope, value: string): string | undefined {
  return value.startsWith(scope.prefix) ? value.slice(scope.prefix.length) : undefined;
}
