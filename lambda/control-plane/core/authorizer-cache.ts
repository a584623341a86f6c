/**
 * Flushing a pool cell's authorizer cache after a tenant's status or key changes (suspend, resume, rotation,
 * offboarding). API Gateway caches the pool authorizer's answer per key for its TTL (60 s,
 * lib/constructs/pool/pool-authorizer.ts), so without a flush a suspended or offboarded tenant's key stays accepted
 * (and a resumed one refused) for up to a minute, plus the authorizer containers' own 10 s reuse of a registry
 * answer (lambda/pool-authorizer/core/lookup-cache.ts). The flush removes API Gateway's share: the change reaches
 * every request within those 10 s. A flush that cannot be made or fails does not undo the change (the cache expires
 * by itself): it is reported in the answer and the audit entry as `not flushed: <why>`, never hidden.
 */
import type { TenantItem } from '../../shared/registry-schema';
import type { ControlPlaneDeps } from './ports';

/** What happened to the authorizer cache: `flushed`, or `not flushed: <why>`. */
export type AuthorizerCacheOutcome = 'flushed' | `not flushed: ${string}`;

/** Flushes the authorizer cache of the tenant's cell's stage; says what it did. */
export async function flushAuthorizerCache(
  deps: Pick<ControlPlaneDeps, 'cells' | 'authorizerCache'>,
  tenant: TenantItem,
): Promise<AuthorizerCacheOutcome> {
  if (tenant.isolation === 'silo') {
    return 'not flushed: a silo tenant is served by its own API, whose API Gateway keys have no authorizer cache';
  }
  const cell = deps.cells.find((c) => c.id === tenant.cell);
  if (!cell) return `not flushed: cell ${tenant.cell} is not in POOL_CELLS`;
  if (!cell.restApiId || !cell.stage) return `not flushed: cell ${cell.id} has no restApiId in POOL_CELLS`;
  try {
    await deps.authorizerCache.flush(cell.restApiId, cell.stage);
    return 'flushed';
  } catch (e) {
    return `not flushed: ${String((e as Error)?.message ?? e).slice(0, 300)}`;
  }
}
