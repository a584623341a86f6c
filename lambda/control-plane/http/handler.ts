/**
 * The control plane API's Lambda proxy handling (IAM-authorized routes under /v1/tenants): the shared router,
 * body parser and error envelope of lambda/shared/http, around the use cases of ../core. The caller every audit
 * entry names is the IAM principal API Gateway authenticated (`requestContext.identity.userArn`); a request
 * without one is refused before anything is read or written.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ApiError } from '../../shared/errors';
import { json, makeRoutedHandler, parseJsonObjectBody, type Routes, rawBodyOf } from '../../shared/http';
import type { Telemetry } from '../../shared/telemetry';
import { getTenant, listTenants, patchTenant } from '../core/manage';
import { MAX_MOVE_BODY_BYTES, moveTenantToPool } from '../core/move';
import { offboardTenant } from '../core/offboard';
import { onboardTenant } from '../core/onboard';
import type { ControlPlaneDeps } from '../core/ports';
import { tenantView } from '../core/tenant-items';

/** Largest request body: a tenant document is a few KB; 64 KB leaves room for long guardrail topics. */
export const MAX_TENANT_BODY_BYTES = 64 * 1024;

interface Result {
  readonly status: number;
  readonly body: unknown;
}

/** The IAM principal of the call, or 403. */
function callerOf(event: APIGatewayProxyEvent): string {
  const arn = event.requestContext?.identity?.userArn;
  if (!arn) throw new ApiError('forbidden', 'The control plane API needs IAM authorization (SigV4-signed requests)');
  return arn;
}

const idOf = (event: APIGatewayProxyEvent) => event.pathParameters?.id ?? '';
const bodyOf = (event: APIGatewayProxyEvent) => parseJsonObjectBody(rawBodyOf(event), MAX_TENANT_BODY_BYTES);

const ROUTES: Routes<ControlPlaneDeps, Result> = {
  '/v1/tenants': {
    POST: async (event, deps) => {
      const who = callerOf(event);
      return { status: 201, body: await onboardTenant(deps, bodyOf(event), who) };
    },
    GET: async (event, deps) => {
      callerOf(event);
      const q = event.queryStringParameters ?? {};
      return { status: 200, body: await listTenants(deps, q.limit, q.cursor) };
    },
  },
  '/v1/tenants/{id}': {
    GET: async (event, deps) => {
      callerOf(event);
      return { status: 200, body: { tenant: tenantView(await getTenant(deps, idOf(event))) } };
    },
    PATCH: async (event, deps) => {
      const who = callerOf(event);
      return { status: 200, body: await patchTenant(deps, idOf(event), bodyOf(event), who) };
    },
    DELETE: async (event, deps) => {
      const who = callerOf(event);
      return offboardTenant(deps, idOf(event), who);
    },
  },
  '/v1/tenants/{id}/move': {
    POST: async (event, deps) => {
      const who = callerOf(event);
      const body = parseJsonObjectBody(rawBodyOf(event), MAX_MOVE_BODY_BYTES);
      return { status: 200, body: await moveTenantToPool(deps, idOf(event), body, who) };
    },
  },
};

/** The Lambda handler of the control plane API. */
export function makeControlPlaneHandler(deps: ControlPlaneDeps, telemetry: Telemetry) {
  return makeRoutedHandler({
    routes: ROUTES,
    context: deps,
    telemetry,
    name: 'control plane',
    routeOf: (event) => `${event.httpMethod} ${event.resource}`,
    respond: (result: Result) => json(result.status, result.body),
  });
}
