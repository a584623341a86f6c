/**
 * The pooled inference function over its ports (index.ts wires them from the environment; tests and the
 * benchmark pass local ones). For each request:
 *
 *   the tenant the pool authorizer named (`requestContext.authorizer.tenantId`, nothing else: not the body, a
 *   path or a header) → its registry item (the function's own credentials, cached 10 s; `active` and placed in
 *   this cell, else 403) → its tenant-scoped ports, built once per tenant per container → admission under its own
 *   rate and quota (429 before anything else is written) → the shared handler (`../inference/http/handler.ts`):
 *   the same core service, HTTP mapping and metrics as a silo tenant's.
 *
 * A tenant's ports (./tenant-ports.ts) are a DocumentClient signed with a session of the cell's tenant-access role
 * tagged with the tenant (lambda/shared/tenant-credentials.ts), and on it the ledger, the review queue and the
 * admission counter, all on the tenant's key scope `T#<tenant>#`. The function's own credentials read the registry
 * and start review workflows; they never reach the ledger table (its role has no access to it): every ledger client
 * is made by {@link PoolRuntimeDeps.ledgerClient} from a tenant's credential provider.
 *
 * The scheduled reconciliation (RECONCILE_EVENT) reconciles the active tenants of this cell, each in its own
 * session, a bounded window per run (./reconcile.ts).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { ReviewHandOff } from '../inference/core/ports';
import type { InferenceService } from '../inference/core/service';
import {
  type InferenceHandlerDeps,
  makeInferenceApi,
  makeInferenceHandler,
  type TenantBinding,
} from '../inference/http/handler';
import { DomainError } from '../shared/errors';
import type { Telemetry } from '../shared/telemetry';
import { TENANT_ID_PATTERN } from '../shared/tenant-vocabulary';
import { reconcileCell } from './reconcile';
import { type PooledTenant, type Refusal, TenantDirectory, type TenantRegistry } from './tenant-directory';
import { TenantPortsCache, type TenantPortsDeps } from './tenant-ports';

export interface PoolRuntimeDeps extends TenantPortsDeps {
  /** The cell this function serves (POOL_ENV.cellId). */
  readonly cellId: string;
  /** The tenant registry, read with the function's own credentials. */
  readonly registry: TenantRegistry;
  /** The function's own lines (requests not bound to a tenant, refusals, the reconciliation). */
  readonly telemetry: Telemetry;
  /** The platform's system preamble (POOL_ENV.platformPreamble), before every tenant's own. */
  readonly platformPreamble?: string;
}

/**
 * The hand-off of a cell without a review workflow. Pooled tenants cannot ask for review while cells have none (their
 * review threshold is 0: pooledTenantHasNoStackSettings), so the core never hands off; if a registry item said
 * otherwise, the hand-off fails loudly and the request stays pending for the reconciler, never released unreviewed.
 */
export const NO_REVIEW_WORKFLOW: ReviewHandOff = {
  start: async () => {
    throw new Error('This pool cell has no review workflow (REVIEW_STATE_MACHINE_ARN is not set)');
  },
};

/** Thrown when an event reaches the function without the authorizer's tenant: a gateway fault (500, logged). */
export class MissingTenantContextError extends Error {
  constructor(what: string) {
    super(`No tenant in the authorizer context (${what}); the pool authorizer must name one`);
    this.name = 'MissingTenantContextError';
  }
}

/** The tenant the pool authorizer named for `event`; nothing else about the request is read for it. */
export function authorizedTenantOf(event: APIGatewayProxyEvent): string {
  const value: unknown = (event.requestContext?.authorizer as Record<string, unknown> | null | undefined)?.tenantId;
  if (typeof value !== 'string') throw new MissingTenantContextError(value === undefined ? 'absent' : typeof value);
  if (!TENANT_ID_PATTERN.test(value)) throw new MissingTenantContextError('not a tenant id');
  return value;
}

const REFUSALS: Record<Refusal, string> = {
  unknown: 'This API key is not valid for this API',
  other_cell: 'This API key is not valid for this API',
  suspended: 'This tenant is suspended; contact the platform team',
  deleted: 'This tenant was offboarded',
};

export function makePoolRuntime(deps: PoolRuntimeDeps) {
  const now = () => deps.clock.now();
  const directory = new TenantDirectory(deps.registry, deps.cellId, now);
  const ports = new TenantPortsCache(deps);

  /** The tenant a request is served as, or the refusal (403) of one this cell does not serve now. */
  async function servedTenant(tenantId: string): Promise<PooledTenant> {
    const found = await directory.lookup(tenantId);
    if (found.served) return found.tenant;
    deps.telemetry.log('WARN', 'tenant refused', { tenantId, reason: found.reason });
    throw new DomainError('forbidden', REFUSALS[found.reason]);
  }

  async function bind(event: APIGatewayProxyEvent): Promise<TenantBinding> {
    const tenant = await servedTenant(authorizedTenantOf(event));
    const p = ports.of(tenant);
    const runtime = deps.platformPreamble
      ? { ...tenant.runtime, preamble: { ...tenant.runtime.preamble, platform: deps.platformPreamble } }
      : tenant.runtime;
    return { tenant: runtime, service: p.service, telemetry: p.telemetry, admit: () => p.admit(tenant) };
  }

  /** The scheduled reconciliation of this cell's active tenants (./reconcile.ts). */
  const reconcile = (context?: Partial<Context>) =>
    reconcileCell({ directory, serviceOf: (t) => ports.of(t).service, telemetry: deps.telemetry, now }, context);

  const handlerDeps: InferenceHandlerDeps = { bind, telemetry: deps.telemetry, reconcile, now };
  const api = makeInferenceApi(handlerDeps);
  const handle = makeInferenceHandler(handlerDeps);
  return {
    /** The Lambda entry point: proxy events and the scheduled reconciliation. */
    handler: (event: APIGatewayProxyEvent, context?: Partial<Context>): Promise<APIGatewayProxyResult> =>
      handle(event, context),
    /** Serves a proxy event with the deadlines given (tests, benchmarks). */
    serve: api.serve,
    reconcile,
    /** The service a served tenant's requests use (tests: reconcile one month of one tenant). */
    async serviceOf(tenantId: string): Promise<InferenceService> {
      return ports.of(await servedTenant(tenantId)).service;
    },
  };
}

export type PoolRuntime = ReturnType<typeof makePoolRuntime>;
