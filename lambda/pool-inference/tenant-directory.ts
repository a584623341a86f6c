/**
 * The pooled function's view of the tenant registry: which tenant a request is for is decided by the pool
 * authorizer (`requestContext.authorizer.tenantId`); what that tenant may do is its registry item
 * (lambda/shared/registry-schema.ts), read with the function's own credentials and reused by a warm container for
 * {@link TENANT_CACHE_TTL_MS}, like the authorizer's key lookups. A tenant is served only while its item says
 * `active` and names this cell; a suspended, offboarded or unknown tenant, or one placed in another cell, is refused
 * (the authorizer checks neither the cell nor, within its cache time, a suspension). An item that does not parse
 * is an error, never a guess.
 */
import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { REGISTRY_TABLE, TENANT_STATUSES, tenantKey } from '../shared/registry-schema';
import { type PooledReviewSettings, PooledReviewSettingsSchema } from '../shared/review-schema';
import type { AdmissionLimits } from '../shared/tenant-admission';
import { MAX_CACHED_TENANTS } from '../shared/tenant-credentials';
import { type TenantRuntimeConfig, TenantRuntimeConfigSchema } from '../shared/tenant-runtime';
import { QUOTA_PERIODS, TENANT_ID_PATTERN } from '../shared/tenant-vocabulary';
import { TtlCache } from '../shared/ttl-cache';
import '../shared/zod-messages';

/** How long a container reuses a tenant's registry item (a suspension reaches it within this time). */
export const TENANT_CACHE_TTL_MS = 10_000;

/** The registry, as the pooled function reads it (with its own credentials: `TENANT#*` items only). */
export interface TenantRegistry {
  /** The tenant item of `tenantId` (strongly consistent), or undefined. */
  getTenant(tenantId: string): Promise<Record<string, unknown> | undefined>;
  /** The ids of the active tenants placed in `cellId` (the registry's `byKind` index), in id order. */
  activeTenantsOf(cellId: string): Promise<string[]>;
}

/** A tenant this cell serves: its runtime config and its own admission limits. */
export interface PooledTenant {
  readonly tenantId: string;
  readonly runtime: TenantRuntimeConfig;
  readonly limits: AdmissionLimits;
  /** Its review settings (the cell's review workflow and sweep); items written before they existed have none. */
  readonly review?: PooledReviewSettings;
}

/** Why a tenant is not served. */
export type Refusal = 'unknown' | 'suspended' | 'deleted' | 'other_cell';

export type TenantLookup =
  | { readonly served: true; readonly tenant: PooledTenant }
  | { readonly served: false; readonly reason: Refusal };

const Positive = z.number().check(z.positive());
const PositiveInt = z.number().check(z.int(), z.positive());
/** The parts of a tenant item the function uses (lambda/control-plane/core/tenant-items.ts writes them). */
const TenantItemSchema = z.looseObject({
  tenantId: z.string().check(z.regex(TENANT_ID_PATTERN)),
  cell: z.string(),
  status: z.enum(TENANT_STATUSES),
  runtime: TenantRuntimeConfigSchema,
  review: z.optional(PooledReviewSettingsSchema),
  throttle: z.object({ rateLimit: Positive, burstLimit: PositiveInt }),
  quota: z.object({ limit: PositiveInt, period: z.enum(QUOTA_PERIODS) }),
});

/** Thrown for a registry item the function cannot read: a platform fault (500, logged), not the caller's. */
export class MalformedTenantItemError extends Error {
  constructor(tenantId: string, problem: string) {
    super(`The registry item of tenant ${tenantId} is malformed: ${problem.slice(0, 300)}`);
    this.name = 'MalformedTenantItemError';
  }
}

/**
 * Reads one registry item into what the cell does with it. `serveSuspended`: a suspended tenant is served too (its
 * reviews already waiting are finished and may be decided: the review workflow and API; never its requests).
 */
export function lookupOf(
  tenantId: string,
  cellId: string,
  item: Record<string, unknown> | undefined,
  serveSuspended = false,
): TenantLookup {
  if (item === undefined) return { served: false, reason: 'unknown' };
  const parsed = TenantItemSchema.safeParse(item);
  if (!parsed.success) {
    throw new MalformedTenantItemError(
      tenantId,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`).join('; '),
    );
  }
  const t = parsed.data;
  if (t.tenantId !== tenantId || t.runtime.tenantId !== tenantId) {
    throw new MalformedTenantItemError(tenantId, `it names tenant ${t.tenantId} (runtime ${t.runtime.tenantId})`);
  }
  if (t.review && t.review.config.tenantId !== tenantId) {
    throw new MalformedTenantItemError(tenantId, `its review settings name tenant ${t.review.config.tenantId}`);
  }
  if (t.status === 'deleted' || (t.status === 'suspended' && !serveSuspended)) {
    return { served: false, reason: t.status };
  }
  if (t.cell !== cellId) return { served: false, reason: 'other_cell' };
  return {
    served: true,
    tenant: {
      tenantId,
      runtime: t.runtime,
      limits: { rateLimit: t.throttle.rateLimit, burstLimit: t.throttle.burstLimit, quota: t.quota },
      ...(t.review ? { review: t.review } : {}),
    },
  };
}

/** The registry items of the tenants of one cell, cached per container. */
export class TenantDirectory {
  private readonly cache: TtlCache<string, TenantLookup>;

  constructor(
    private readonly registry: TenantRegistry,
    private readonly cellId: string,
    now: () => number,
    ttlMs = TENANT_CACHE_TTL_MS,
    /** Serve suspended tenants too (the review functions: see {@link lookupOf}). */
    private readonly serveSuspended = false,
  ) {
    this.cache = new TtlCache({ now, ttlMs, maxEntries: MAX_CACHED_TENANTS });
  }

  /** Whether this cell serves `tenantId` now (cached answers, refusals included; errors are not cached). */
  async lookup(tenantId: string): Promise<TenantLookup> {
    const hit = this.cache.get(tenantId);
    if (hit) return hit.value;
    const found = lookupOf(tenantId, this.cellId, await this.registry.getTenant(tenantId), this.serveSuspended);
    this.cache.set(tenantId, found);
    return found;
  }

  /** The ids of the active tenants of this cell (read from the registry, not cached). */
  activeTenants(): Promise<string[]> {
    return this.registry.activeTenantsOf(this.cellId);
  }
}

/** The registry on DynamoDB, read with the client it is given (the function's own credentials). */
export function makeDynamoTenantRegistry(doc: DynamoDBDocumentClient, tableName: string): TenantRegistry {
  const index = REGISTRY_TABLE.byCellIndex;
  return {
    async getTenant(tenantId) {
      const res = await doc.send(
        new GetCommand({ TableName: tableName, Key: tenantKey(tenantId), ConsistentRead: true }),
      );
      return res.Item;
    },
    async activeTenantsOf(cellId) {
      const ids: string[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const res = await doc.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: index.name,
            // The cell's own partition of the sparse byCell index: what it reads grows with its tenants, not the fleet.
            KeyConditionExpression: '#cell = :cell',
            FilterExpression: '#status = :active',
            ProjectionExpression: 'tenantId',
            ExpressionAttributeNames: { '#cell': index.partitionKey.name, '#status': 'status' },
            ExpressionAttributeValues: { ':cell': cellId, ':active': 'active' },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const i of res.Items ?? []) {
          if (typeof i.tenantId === 'string' && TENANT_ID_PATTERN.test(i.tenantId)) ids.push(i.tenantId);
        }
        start = res.LastEvaluatedKey;
      } while (start);
      return ids.sort();
    },
  };
}
