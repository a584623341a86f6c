/**
 * The tenant registry's key design (control plane): one DynamoDB table, shared by the table construct (key
 * schema, index: {@link REGISTRY_TABLE}), the control plane (lambda/control-plane) and the pool authorizer (API key
 * lookup). Single-table design:
 *
 * | item               | pk                        | sk                        | kind       |
 * |--------------------|---------------------------|---------------------------|------------|
 * | tenant             | `TENANT#<id>`             | `TENANT`                  | `TENANT`   |
 * | API key            | `KEY#<sha256 of the key>` | `KEY`                     | —          |
 * | cell occupancy     | `CELL#<cell id>`          | `CELL`                    | —          |
 * | audit entry        | `AUDIT#<tenant id>`       | `<ISO time>#<random>`     | —          |
 * | offboard evidence  | `EVIDENCE#<tenant id>`    | `<ISO time>`              | —          |
 * | purge progress     | `PURGE#<tenant id>`       | `PURGE`                   | —          |
 *
 * Only tenant items carry `kind`, so the `byKind` index lists tenants (paged, by id) and nothing else. Keys are
 * stored hashed (SHA-256 of the key text): the key value itself is shown once, at creation or rotation, and never
 * written. Every write is a single-item conditional write (dynalite has no transactions): the control plane
 * orders them so that a crash between two writes leaves nothing usable half-made (core/onboard.ts).
 */
import { createHash, randomBytes } from 'node:crypto';

/** The table's key schema and index, as the CDK table and the tests create it. */
export const REGISTRY_TABLE = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  /** Sparse index over tenant items only: partition `kind` (always `TENANT`), sort `pk`. */
  byKindIndex: { name: 'byKind', partitionKey: { name: 'kind', type: 'S' }, sortKey: { name: 'pk', type: 'S' } },
  /**
   * Sparse index over the items that carry `cell` (tenant items only): a pool cell lists its own tenants (the
   * scheduled reconciliation) by reading its own partition, not the whole fleet's. It projects only what the listing
   * reads ({@link REGISTRY_BY_CELL_ATTRIBUTES}), so it stays a few bytes per tenant.
   */
  byCellIndex: { name: 'byCell', partitionKey: { name: 'cell', type: 'S' }, sortKey: { name: 'pk', type: 'S' } },
} as const;

/** The non-key attributes the `byCell` index projects. */
export const REGISTRY_BY_CELL_ATTRIBUTES = ['tenantId', 'status'] as const;

/** Environment of the control plane and the authorizer: the registry table's name. */
export const REGISTRY_TABLE_ENV = 'REGISTRY_TABLE_NAME';

/** Statuses of a tenant: only `active` tenants' keys are accepted. */
export const TENANT_STATUSES = ['active', 'suspended', 'deleted'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

/**
 * Statuses of an API key: `pending` (written before its tenant; never accepted), `active`, `revoked` (rotated
 * away or offboarded; never accepted again).
 */
export const KEY_STATUSES = ['pending', 'active', 'revoked'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

/** Partition key prefixes of the items a key lookup reads (the pool authorizer's IAM scope is built from them). */
export const REGISTRY_PK_PREFIXES = { tenant: 'TENANT#', apiKey: 'KEY#' } as const;

export const tenantKey = (tenantId: string) => ({ pk: `${REGISTRY_PK_PREFIXES.tenant}${tenantId}`, sk: 'TENANT' });
export const apiKeyKey = (keyHash: string) => ({ pk: `${REGISTRY_PK_PREFIXES.apiKey}${keyHash}`, sk: 'KEY' });
export const cellKey = (cellId: string) => ({ pk: `CELL#${cellId}`, sk: 'CELL' });
export const auditPk = (tenantId: string) => `AUDIT#${tenantId}`;
export const evidencePk = (tenantId: string) => `EVIDENCE#${tenantId}`;
export const purgeKey = (tenantId: string) => ({ pk: `PURGE#${tenantId}`, sk: 'PURGE' });

/**
 * `keyHash` of a silo tenant's item: not a SHA-256 (no key hashes to it), so no key item is ever accepted for it.
 * A silo tenant's keys are its own API's API Gateway keys.
 */
export const SILO_NO_KEY_HASH = 'none:silo-api-gateway-keys';

/** The value of `kind` on tenant items (the `byKind` index partition). */
export const TENANT_KIND = 'TENANT';

/** A tenant item (without its keys `pk`/`sk`). */
export interface TenantItem {
  readonly tenantId: string;
  readonly kind: typeof TENANT_KIND;
  readonly plan: string;
  readonly isolation: 'pool' | 'silo';
  /** The pool cell serving the tenant (pooled tenants), or `silo` for a tenant with a stack of its own. */
  readonly cell: string;
  readonly status: TenantStatus;
  /** The tenant document as given (the tenant file's schema), the base of later changes. */
  readonly document: Record<string, unknown>;
  /** The resolved runtime config the pooled handler uses (TenantRuntimeConfig), plus the tenant's own limits. */
  readonly runtime: Record<string, unknown>;
  /** The tenant's review settings (PooledReviewSettings): what the cell's review workflow and sweep apply. */
  readonly review: Record<string, unknown>;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly quota: { readonly limit: number; readonly period: string };
  /** SHA-256 of the tenant's one accepted key; a key item whose hash is not this one is not accepted. */
  readonly keyHash: string;
  /** Incremented on every change; updates are conditional on it. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** An API key item (without `pk`/`sk`). */
export interface ApiKeyItem {
  readonly keyHash: string;
  readonly tenantId: string;
  readonly status: KeyStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** An audit entry: who did what, when, and the tenant before and after. */
export interface AuditItem {
  readonly tenantId: string;
  readonly action: string;
  /** The caller's IAM principal (API Gateway's `requestContext.identity.userArn`). */
  readonly who: string;
  readonly at: string;
  readonly before?: unknown;
  readonly after?: unknown;
  /** After a status change: the cell's authorizer cache `flushed` or `not flushed: <why>`. */
  readonly authorizerCache?: string;
}

/** SHA-256 (hex) of an API key: what the registry stores and looks keys up by. */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

/** Prefix of every Switchboard API key (recognizable in logs and by secret scanners). */
export const API_KEY_PREFIX = 'sbk_';

/** A new API key: 32 random bytes, base64url, after {@link API_KEY_PREFIX}. */
export function newApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}
