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
  /** What became of the tenant's records in its cell's ledger (the tenant file's `offboarding.data`). */
  readonly data?: OffboardData;
  /** The cell's authorizer cache: `flushed` or `not flushed: <why>`. */
  readonly authorizerCache?: string;
  /** Set when this record finishes an offboarding a crash interrupted (the counts are this call's). */
  readonly resumedAfter?: string;
}

/** The data part of an offboarding's evidence. */
export type OffboardData =
  | { readonly policy: 'retain'; readonly keptUntil: string; readonly how: string }
  | { readonly policy: 'delete'; readonly purgeStartedAt: string; readonly passes: number; readonly how: string }
  | { readonly policy: 'crypto-shred'; readonly keyDeletionAfter: string; readonly how: string };

/** The key of a pooled ledger item (`pk` starts `T#<tenant>#`). */
export interface LedgerKey {
  readonly pk: string;
  readonly sk: string;
}

/**
 * Where a purge of a tenant's pooled items stands (a registry item, so a purge larger than one call continues on
 * the next DELETE, and a crash loses nothing): scan passes over the cell's ledger, each from the table's start, until
 * one finds none of the tenant's items. The keys of a page are recorded (`pending`) before they are deleted, so a
 * retry deletes them again (idempotent) and counts them once.
 */
export interface PurgeProgress {
  readonly tenantId: string;
  readonly cell: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  /** Pass number, from 1. */
  readonly pass: number;
  /** Where the current pass goes on (absent: at the table's start, or, with `passEnded`, done). */
  readonly cursor?: LedgerKey;
  readonly passEnded: boolean;
  /** Items found (and deleted) in the current pass. */
  readonly foundThisPass: number;
  /** Items deleted over every pass. */
  readonly deleted: number;
  /** Keys found on the current page, being deleted, and where the pass goes on after them. */
  readonly pending?: { readonly keys: readonly LedgerKey[]; readonly next?: LedgerKey };
  /** A pass found none of the tenant's items. */
  readonly done: boolean;
  readonly version: number;
}

/** API Gateway's authorizer cache of a stage. */
export interface AuthorizerCachePort {
  /** Flushes every cached authorizer answer of the stage; throws when API Gateway refuses or cannot be reached. */
  flush(restApiId: string, stage: string): Promise<void>;
}

/** A pool cell's ledger, as a purge sees it. */
export interface PooledLedgerPort {
  /**
   * One page of a keys-only Scan of the cell's ledger (`pageSize` items evaluated), filtered to `tenantId`'s items:
   * the control plane may scan only keys (pk, sk), never read tenant data.
   */
  scanTenantKeys(
    cell: PoolCellEnv,
    tenantId: string,
    start: LedgerKey | undefined,
    pageSize: number,
  ): Promise<{ readonly keys: readonly LedgerKey[]; readonly next?: LedgerKey }>;
  /** Deletes items by key through a session of the cell's tenant-access role tagged with `tenantId`. */
  deleteTenantItems(cell: PoolCellEnv, tenantId: string, keys: readonly LedgerKey[]): Promise<void>;
}

/** How much one call may purge before it answers 202 (the next DELETE continues). */
export interface PurgeBudget {
  /** Items deleted per call (a started page is finished). */
  readonly maxItems: number;
  /** Milliseconds per call (checked between pages). */
  readonly maxMs: number;
  /** Items a Scan page evaluates (at most 1000: a page's keys are recorded in one registry item). */
  readonly pageSize: number;
}

/**
 * The tenant registry. Every write is one conditional write of one item: `false` when its condition did not
 * hold (the item exists, changed, or the cell is full), an exception for anything else.
 */
/** Subscriptions of reviewer e-mails to a pool cell's reviewers topic (SNS). */
export interface ReviewerSubscriptionsPort {
  /** Subscribes `email` to `topicArn`, filtered to `tenantId`'s reviews; returns the subscription's ARN. */
  subscribe(topicArn: string, tenantId: string, email: string): Promise<string>;
  unsubscribe(subscriptionArn: string): Promise<void>;
}

/** The reviewer groups (`tenant-<id>`) of the platform's reviewer user pool (Cognito), for pooled tenants. */
export interface ReviewerGroupsPort {
  /** Creates the tenant's group; `exists` when it was there already. */
  create(tenantId: string): Promise<'created' | 'exists'>;
  /** Deletes the tenant's group (its members lose the tenant); `absent` when it was not there. */
  remove(tenantId: string): Promise<'removed' | 'absent'>;
}

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
  getPurge(tenantId: string): Promise<PurgeProgress | undefined>;
  /** Writes purge progress at `progress.version`, if the stored one is at `progress.version - 1` (or absent for 1). */
  putPurge(progress: PurgeProgress): Promise<boolean>;
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
  readonly authorizerCache: AuthorizerCachePort;
  readonly ledger: PooledLedgerPort;
  readonly purgeBudget: PurgeBudget;
  readonly reviewerSubscriptions: ReviewerSubscriptionsPort;
  /** Absent: no reviewer user pool is configured (`REVIEWER_USER_POOL_ID`); pooled tenants get no group. */
  readonly reviewerGroups?: ReviewerGroupsPort;
}
