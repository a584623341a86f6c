/**
 * Pooled tenants in the capacity model: how many tenants one pool cell holds. First version; the derivation
 * (which per-cell limit binds first) is refined with the capacity work of issue 14.
 */
import { MAX_CACHED_TENANTS } from '../../lambda/shared/tenant-credentials';

/**
 * Tenants one pool cell holds: half of the sessions a container caches, so every tenant of a busy cell keeps
 * its warm session in every container.
 */
export const TENANTS_PER_POOL_CELL = Math.floor(MAX_CACHED_TENANTS / 2);
