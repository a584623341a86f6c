/**
 * What the control plane's use cases need from the outside world: the tenant registry (adapters/dynamo-registry.ts),
 * the pool cells and their capacity (from the environment), a clock and a key generator.
 */
import type { PoolCellEnv } from '../../shared/pool-runtime';
import type { ApiKeyItem, AuditItem, KeyStatus, TenantItem } from '../../shared/registry-schema';

/** A page of tenants and the cursor of the next one (absent on the last page). */
export interface TenantPage {
  readonly items: readonly TenantItem[];
  readonly cursor?: string;
}

/** What an offboarding deleted, counted before and after (the evidence record). */
export interface OffboardEvidence {
  readonly tenantId: string;
  readonly who: string;
  readonly at: string;
  readonly deleted: readonly string[];
  readonly counts: Readonly<Record<string, { readonly before: number; readonly after: number }>>;
  readonly retentionDays: number;
  /** Set when this record finishes an offboarding a crash interrupted (the counts are this call's). */
  readonly resumedAfter?: string;
}

/**
 * The tenant registry. Every write is one conditional write of one item: `false` when its condition did not
 * hold (the item exists, changed, or the cell is full), an exception for anything else.
 */
export interface RegistryPort {
  getTenant(tenantId: string): Promise<TenantItem | undefined>;
  /** Writes a new tenant item; `false` when the id is taken. */
  putNewTenant(item: TenantItem): Promise<boolean>;
  /** Replaces a tenant item written at `expectedVersion`; `false` when it changed meanwhile. */
  replaceTenant(item: TenantItem, expectedVersion: number): Promise<boolean>;
  listTenants(limit: number, cursor?: string): Promise<TenantPage>;
  /** Writes a new key item (its hash is new: `false` only on a collision). */
  putNewKey(item: ApiKeyItem): Promise<boolean>;
  /** Moves a key from one of `from` to `to`; `false` when it is in none of them. */
  setKeyStatus(keyHash: string, to: KeyStatus, from: readonly KeyStatus[], at: string): Promise<boolean>;
  /** Active keys of a tenant (for the offboarding's counts). */
  countActiveKeys(tenantId: string): Promise<number>;
  /** Takes one place in a cell holding fewer than `capacity` tenants; `false` when it is full. */
  reserveCellPlace(cellId: string, capacity: number, at: string): Promise<boolean>;
  releaseCellPlace(cellId: string, at: string): Promise<void>;
  appendAudit(entry: AuditItem): Promise<void>;
  listAudit(tenantId: string): Promise<AuditItem[]>;
  putEvidence(evidence: OffboardEvidence): Promise<void>;
  /** The evidence of a tenant's offboarding, if it was written. */
  getEvidence(tenantId: string): Promise<OffboardEvidence | undefined>;
}

/**
 * A pool cell as `POOL_CELLS` describes it: how many tenants it holds at most (the capacity model's tenants per
 * cell) and, when known, its REST API and stage, pooled ledger and tenant-access role.
 */
export type PoolCell = PoolCellEnv;

/** Everything the use cases are given. */
export interface ControlPlaneDeps {
  readonly registry: RegistryPort;
  /** The pool cells, in placement order: a new tenant goes to the first with room. */
  readonly cells: readonly PoolCell[];
  readonly now: () => number;
  readonly newApiKey: () => string;
}
