/**
 * Pooled tenants in the capacity model: how many tenants one pool cell holds, derived from the limits that bind
 * per cell, and how many cells a region takes.
 *
 * What was weighed, per cell (the ones that bound a count are {@link POOL_CELL_LIMITS}):
 * - The fleet dashboard's per-cell SEARCH (`{Switchboard,Cell,TenantId} Cell="pool-<n>"`): one SEARCH returns at
 *   most 500 time series, so a cell of at most 500 tenants is shown whole on the dashboard (a larger one would
 *   silently drop tenants from its totals and top lists). **Binds: 500.**
 * - The pooled function's session cache: every tenant of a busy cell keeps its tenant-scoped session in every
 *   container while the cell holds at most MAX_CACHED_TENANTS tenants (beyond, a container evicts and assumes roles
 *   again). 5,000.
 * - The authorizer's result cache is keyed by the API key (identity source), one entry per caller, for at most
 *   3,600 s (https://docs.aws.amazon.com/apigateway/latest/api/API_Authorizer.html, authorizerResultTtlInSeconds),
 *   with no documented entry limit: no count bound (the TTL bounds how long a suspension takes to bite).
 * - STS: AssumeRole calls count toward an account-wide request rate that AWS neither publishes nor raises
 *   (https://repost.aws/knowledge-center/iam-sts-throttling-error, which recommends caching sessions, as the pooled
 *   function does): at most one call per tenant per container per 10 minutes (15-minute sessions replaced 5 minutes
 *   early), and never more than the requests themselves. A rate, not a count bound.
 * - Rates are runtime limits, not counts, reported with the fleet: each pooled tenant keeps its own rate (at most
 *   POOLED_RATE_CEILING_PER_SECOND, one DynamoDB partition's 1,000 writes per second), and the sum of the rates of
 *   every tenant of every cell and silo runs against the account's API Gateway throttle (10,000 requests per second
 *   per region, shared by every API); the cell's function is unreserved and takes its executions from the account's
 *   concurrency like every other function.
 */
import { POOLED_RATE_CEILING_PER_SECOND } from '../../lambda/shared/tenant-admission';
import { MAX_CACHED_TENANTS } from '../../lambda/shared/tenant-credentials';
import { QUOTA_IDS, QUOTAS, SEARCH_LIMITS_SOURCE } from './quotas';
import type { Source } from './types';

/** A limit on the number of tenants one cell holds. */
export interface CellLimit {
  readonly id: string;
  readonly name: string;
  /** Tenants one cell holds under this limit. */
  readonly tenants: number;
  readonly source: Source;
  /** Why the limit bounds a cell's tenants. */
  readonly why: string;
}

const READ_ON = '2026-12-02';
const searchSeries = QUOTAS.find((q) => q.id === QUOTA_IDS.searchSeries)!;

/** The limits that bound how many tenants one pool cell holds, each with where it comes from. */
export const POOL_CELL_LIMITS: readonly CellLimit[] = [
  {
    id: QUOTA_IDS.searchSeries,
    name: searchSeries.name,
    tenants: searchSeries.defaultLimit,
    source: SEARCH_LIMITS_SOURCE,
    why: 'The fleet dashboard searches each cell on its own (the Cell and TenantId dimensions): a cell of at most this many tenants is shown whole; a larger one would drop tenants from its totals and top lists.',
  },
  {
    id: 'pool.sessionCache',
    name: 'Tenant sessions cached per container of the pooled function (MAX_CACHED_TENANTS)',
    tenants: MAX_CACHED_TENANTS,
    source: {
      url: 'lambda/shared/tenant-credentials.ts',
      readOn: READ_ON,
      note: 'Switchboard code, not an AWS quota: sessions last 15 minutes (STS minimum) and are replaced 5 minutes before expiry',
    },
    why: 'Every tenant of a busy cell keeps its tenant-scoped session in every container; beyond it a container drops the oldest and assumes the role again on that tenant’s next request.',
  },
];

/** The limit that binds first. */
export const BINDING_CELL_LIMIT: CellLimit = POOL_CELL_LIMITS.reduce((a, b) => (b.tenants < a.tenants ? b : a));

/** Tenants one pool cell holds: the smallest of {@link POOL_CELL_LIMITS}. */
export const TENANTS_PER_POOL_CELL = BINDING_CELL_LIMIT.tenants;

/** Highest rate limit a pooled tenant may have (requests per second), re-exported for the capacity report. */
export const POOLED_TENANT_RATE_CEILING = POOLED_RATE_CEILING_PER_SECOND;

/** Pooled tenants per region the platform aims for (issue 14). */
export const POOLED_TENANTS_TARGET_PER_REGION = 10_000;

/** Cells needed to hold `tenants` pooled tenants. */
export function cellsFor(tenants: number): number {
  return Math.ceil(tenants / TENANTS_PER_POOL_CELL);
}

/** The id of the `n`-th cell (1-based), as `cdk.json` lists it in `poolCells`. */
export const poolCellId = (n: number) => `pool-${n}`;
