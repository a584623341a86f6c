/**
 * The control plane's configuration from its environment: the registry table and the pool cells (`POOL_CELLS`,
 * one {@link PoolCellEnv} per cell, in placement order). A new cell is one more entry. The optional fields (the
 * cell's REST API and stage, its pooled ledger, its tenant-access role) may be absent in an older entry: then the
 * features that need them say in their answer what they could not do (an authorizer cache not flushed, a purge
 * refused), never silently.
 */
import type { PoolCellEnv } from '../shared/pool-runtime';

/** Environment variables of the control plane function. */
export const CONTROL_PLANE_ENV = {
  /** JSON array of {@link PoolCellEnv}: `{"id", "capacity", "restApiId"?, "stage"?, "ledgerTable"?, "tenantAccessRoleArn"?, "reviewersTopicArn"?}`. */
  cells: 'POOL_CELLS',
  /** The platform's reviewer user pool (pooled tenants' reviewer groups); optional. */
  reviewerUserPoolId: 'REVIEWER_USER_POOL_ID',
} as const;

/** What each optional field may hold (ids as AWS issues them; names as CloudFormation makes them). */
const OPTIONAL_FIELDS: Readonly<Record<Exclude<keyof PoolCellEnv, 'id' | 'capacity'>, RegExp>> = {
  restApiId: /^[a-z0-9]{1,64}$/,
  stage: /^[A-Za-z0-9_-]{1,128}$/,
  ledgerTable: /^[A-Za-z0-9_.-]{3,255}$/,
  tenantAccessRoleArn: /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
  reviewersTopicArn: /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/,
};

/** The pool cells of `POOL_CELLS`; throws at init, naming the variable, when it is not a non-empty valid list. */
export function poolCellsFrom(text: string | undefined): PoolCellEnv[] {
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
      c &&
      typeof c === 'object' &&
      typeof c.id === 'string' &&
      /^[a-z0-9-]{1,32}$/.test(c.id) &&
      Number.isInteger(c.capacity) &&
      c.capacity > 0;
    if (!ok) return fail(`entry ${i} needs an id of a-z, 0-9, "-" and a positive integer capacity`);
    if (ids.has(c.id)) return fail(`cell "${c.id}" is listed twice`);
    ids.add(c.id);
    const known = new Set(['id', 'capacity', ...Object.keys(OPTIONAL_FIELDS)]);
    const unknown = Object.keys(c).filter((k) => !known.has(k));
    if (unknown.length) return fail(`entry ${i} has unknown field(s) ${unknown.join(', ')}`);
    const cell: Record<string, unknown> = { id: c.id, capacity: c.capacity };
    for (const [field, pattern] of Object.entries(OPTIONAL_FIELDS)) {
      const v = c[field];
      if (v === undefined) continue;
      if (typeof v !== 'string' || !pattern.test(v)) return fail(`entry ${i}: ${field} must match ${pattern.source}`);
      cell[field] = v;
    }
    if ((cell.restApiId === undefined) !== (cell.stage === undefined)) {
      return fail(`entry ${i}: restApiId and stage come together (the stage whose authorizer cache is flushed)`);
    }
    return cell as unknown as PoolCellEnv;
  });
}
