/**
 * The control plane's configuration from its environment: the registry table and the pool cells with their
 * capacity (tenants per cell, from the capacity model). A new cell is one more entry of `POOL_CELLS`.
 */
import type { PoolCell } from './core/ports';

/** Environment variables of the control plane function. */
export const CONTROL_PLANE_ENV = {
  /** JSON array of `{"id": "<cell id>", "capacity": <tenants>}`, in placement order. */
  cells: 'POOL_CELLS',
} as const;

/** The pool cells of `POOL_CELLS`; throws at init, naming the variable, when it is not a non-empty valid list. */
export function poolCellsFrom(text: string | undefined): PoolCell[] {
  const fail = (why: string): never => {
    throw new Error(`${CONTROL_PLANE_ENV.cells}: ${why}; expected [{"id":"pool-1","capacity":500}, ...]`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    return fail('not JSON');
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return fail('not a non-empty array');
  const ids = new Set<string>();
  return parsed.map((c, i) => {
    const ok =
      c && typeof c.id === 'string' && /^[a-z0-9-]{1,32}$/.test(c.id) && Number.isInteger(c.capacity) && c.capacity > 0;
    if (!ok) return fail(`entry ${i} needs an id of a-z, 0-9, "-" and a positive integer capacity`);
    if (ids.has(c.id)) return fail(`cell "${c.id}" is listed twice`);
    ids.add(c.id);
    return { id: c.id, capacity: c.capacity };
  });
}
