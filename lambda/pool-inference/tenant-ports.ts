/**
 * A pooled tenant's ports in this container: a DocumentClient signed with the tenant's session of the cell's
 * tenant-access role, and on it, on the tenant's key scope `T#<tenant>#` and nothing else, the ledger, the review
 * queue and the admission counter; the core service over them. Built on a tenant's first request and kept (at most
 * MAX_CACHED_TENANTS, the oldest dropped); built again when the tenant's plan changes (its guardrail does).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { makeDynamoLedger } from '../inference/adapters/dynamo-ledger';
import { ledgerDown } from '../inference/core/accept';
import type { Clock, ConfidenceFn, IdGenerator, ModelInvoker, ReviewHandOff, RouteFn } from '../inference/core/ports';
import { type InferenceService, makeInferenceService } from '../inference/core/service';
import { makeDynamoAdmissionCounter } from '../shared/dynamo-admission';
import { makeDynamoReviewQueue } from '../shared/dynamo-review-queue';
import { DomainError } from '../shared/errors';
import { poolKeyScope } from '../shared/key-scope';
import type { Telemetry } from '../shared/telemetry';
import { admit } from '../shared/tenant-admission';
import { MAX_CACHED_TENANTS, type TenantCredentials } from '../shared/tenant-credentials';
import type { TenantRuntimeConfig } from '../shared/tenant-runtime';
import { TtlCache } from '../shared/ttl-cache';
import type { PooledTenant } from './tenant-directory';

/** What a tenant's ports are built from. */
export interface TenantPortsDeps {
  /** The cell's pooled ledger table. */
  readonly ledgerTable: string;
  /** Sessions of the tenant-access role tagged with a tenant (cached per tenant, renewed before expiry). */
  readonly credentials: Pick<TenantCredentials, 'forTenant'>;
  /** A ledger DocumentClient signed with a tenant's session: the only way the function reaches the ledger. */
  readonly ledgerClient: (credentials: AwsCredentialIdentityProvider) => DynamoDBDocumentClient;
  /** The model invoker for a tenant's calls (its plan's guardrail); throws for a tenant the cell cannot serve. */
  readonly invokerFor: (tenant: TenantRuntimeConfig) => ModelInvoker;
  /** Starts the cell's review workflow (the input names the tenant). */
  readonly review: ReviewHandOff;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly route?: RouteFn;
  readonly confidenceFor: (tenant: TenantRuntimeConfig) => ConfidenceFn;
  /** The telemetry of one tenant's requests (its id on every line and metric). */
  readonly telemetryFor: (tenantId: string) => Telemetry;
}

export interface TenantPorts {
  /** The plan the invoker applies the guardrail of. */
  readonly plan: string;
  readonly service: InferenceService;
  readonly telemetry: Telemetry;
  /** Admits one request under the tenant's own rate and quota, or throws the 429 (`throttled`, `quota_exceeded`). */
  readonly admit: (tenant: PooledTenant) => Promise<void>;
}

/** Builds a tenant's ports: its session's client, and on it the tenant's key scope, nothing else. */
function buildPorts(deps: TenantPortsDeps, tenant: PooledTenant): TenantPorts {
  const { tenantId, runtime } = tenant;
  const doc = deps.ledgerClient(deps.credentials.forTenant(tenantId));
  const scope = poolKeyScope(tenantId);
  const counter = makeDynamoAdmissionCounter(doc, deps.ledgerTable);
  const service = makeInferenceService({
    invoker: deps.invokerFor(runtime),
    ledger: makeDynamoLedger(doc, deps.ledgerTable, scope),
    clock: deps.clock,
    ids: deps.ids,
    route: deps.route,
    confidenceFor: deps.confidenceFor,
    review: deps.review,
    reviewQueue: makeDynamoReviewQueue(doc, deps.ledgerTable, scope),
  });
  return {
    plan: runtime.plan,
    service,
    telemetry: deps.telemetryFor(tenantId),
    async admit(t) {
      // The counter's items are the tenant's own (`T#<tenant>#ADMIT`); DynamoDB down is a 503, nothing written.
      const refusal = await admit(counter, tenantId, t.limits, deps.clock.now()).catch(ledgerDown);
      if (refusal) throw new DomainError(refusal.code, refusal.message, refusal.retryAfterSeconds);
    },
  };
}

/** The container's tenant ports, by tenant. */
export class TenantPortsCache {
  private readonly cache: TtlCache<string, TenantPorts>;

  constructor(private readonly deps: TenantPortsDeps) {
    this.cache = new TtlCache({
      now: () => deps.clock.now(),
      ttlMs: Number.POSITIVE_INFINITY,
      maxEntries: MAX_CACHED_TENANTS,
    });
  }

  /** A tenant's ports, from the cache while its plan is unchanged. */
  of(tenant: PooledTenant): TenantPorts {
    const hit = this.cache.get(tenant.tenantId)?.value;
    if (hit && hit.plan === tenant.runtime.plan) return hit;
    const built = buildPorts(this.deps, tenant);
    this.cache.set(tenant.tenantId, built);
    return built;
  }
}
