/**
 * The review API's Lambda proxy handling: the IAM-authorized routes under /v1/reviews (tools, SigV4), the
 * Cognito-authorized reviewer routes under /v1/reviewer/reviews (the review console: a reviewer acts on exactly the
 * tenants of its `tenant-<id>` groups, reviewer-claims.ts) and the console's files under /console
 * (console-assets.ts). The shared router of lambda/shared/http (as the inference function), its JSON body parser
 * for the decision, and the same error envelope.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { json, makeRoutedHandler, parseJsonObjectBody, type Routes, rawBodyOf } from '../../shared/http';
import { MAX_DECISION_BODY_BYTES } from '../../shared/review-schema';
import type { Telemetry } from '../../shared/telemetry';
import { type ConsoleSignIn, type ConsoleTenants, consoleResponse, REVIEWER_ROUTE_PREFIX } from './console-assets';
import type { ApiResult, ReviewApi } from './review-api';
import { type Reviewer, reviewerAccess } from './reviewer-claims';

/** The review API's routes (the shared router answers 404 and 405 for the rest). */
const ROUTES = {
  '/v1/reviews': { GET: (event, api) => api.list(queryOf(event)) },
  '/v1/reviews/export': { GET: (event, api) => api.exportExamples(queryOf(event)) },
  '/v1/reviews/{reviewId}': { GET: (event, api) => api.get(event.pathParameters?.reviewId ?? '') },
  '/v1/reviews/{reviewId}/decision': {
    POST: (event, api) =>
      // Who AWS authenticated (IAM authorization on this route), recorded beside the self-declared reviewer.
      api.decide(
        event.pathParameters?.reviewId ?? '',
        parseJsonObjectBody(rawBodyOf(event), MAX_DECISION_BODY_BYTES),
        event.requestContext?.identity?.userArn ?? undefined,
      ),
  },
} satisfies Routes<ReviewApi, ApiResult>;

/**
 * Where a pool cell's review routes are: the same routes under the tenant they are for
 * (`/v1/tenants/{tenantId}/reviews...`), a path parameter IAM matches with the reviewer session's tenant tag.
 */
export const POOLED_REVIEW_PREFIX = '/v1/tenants/{tenantId}';

/** A review route's resource under a pool cell's tenant: `/v1/reviews/...` → `/v1/tenants/{tenantId}/reviews/...`. */
const pooledResource = (resource: string) => `${POOLED_REVIEW_PREFIX}${resource.slice('/v1'.length)}`;

/** The review API's resource paths (as API Gateway names them), for a silo tenant's API or a pool cell's. */
export function reviewResourcePaths(pooled: boolean): string[] {
  return Object.keys(ROUTES).map((r) => (pooled ? pooledResource(r) : r));
}

function queryOf(event: APIGatewayProxyEvent): Record<string, string | undefined> {
  return (event.queryStringParameters ?? {}) as Record<string, string | undefined>;
}

/** The proxy response of a result. */
function response(result: ApiResult): APIGatewayProxyResult {
  if (result.raw !== undefined) {
    return { statusCode: result.status, headers: { 'cache-control': 'no-store', ...result.headers }, body: result.raw };
  }
  return json(result.status, result.body, result.headers);
}

/** The reviewer signed in for `tenantId` (the Cognito authorizer's claims), or the 403 that says which group is missing. */
function signedIn(event: APIGatewayProxyEvent, tenantId: string): Reviewer {
  const claims = (event.requestContext?.authorizer as { claims?: Record<string, unknown> } | null | undefined)?.claims;
  const access = reviewerAccess(claims, tenantId);
  if (!access.allowed) throw access.error;
  return access.reviewer;
}

type TenantApi = (event: APIGatewayProxyEvent) => Promise<{ readonly tenantId: string; readonly api: ReviewApi }>;

/**
 * The console's reviewer routes: the review routes a console needs, each for a reviewer of the tenant only; a
 * decision names the signed-in reviewer (its name and Cognito identity), not a name the page sends.
 */
function reviewerRoutes(apiOf: TenantApi) {
  const forReviewer = async (event: APIGatewayProxyEvent) => {
    const { tenantId, api } = await apiOf(event);
    return { reviewer: signedIn(event, tenantId), api };
  };
  return {
    '/reviews': {
      GET: async (event: APIGatewayProxyEvent) => (await forReviewer(event)).api.list(queryOf(event)),
    },
    '/reviews/{reviewId}': {
      GET: async (event: APIGatewayProxyEvent) =>
        (await forReviewer(event)).api.get(event.pathParameters?.reviewId ?? ''),
    },
    '/reviews/{reviewId}/decision': {
      POST: async (event: APIGatewayProxyEvent) => {
        const { reviewer, api } = await forReviewer(event);
        const body = parseJsonObjectBody(rawBodyOf(event), MAX_DECISION_BODY_BYTES);
        return api.decide(
          event.pathParameters?.reviewId ?? '',
          { ...body, reviewer: reviewer.name },
          reviewer.identity,
        );
      },
    },
  };
}

/** The console's files and config.json (ApiResult with a raw body). */
function consoleRoutes(signIn: ConsoleSignIn | undefined, tenants: ConsoleTenants, pooled: boolean) {
  const serve = async (event: APIGatewayProxyEvent): Promise<ApiResult> => {
    const r = await consoleResponse(event, signIn, tenants, pooled);
    return { status: r.statusCode, body: undefined, headers: r.headers as Record<string, string>, raw: r.body };
  };
  return { '/console': { GET: serve }, '/console/{file}': { GET: serve } };
}

/** The console part of a review API: its sign-in settings (none: the console says it has no sign-in). */
export interface ConsoleOptions {
  readonly signIn?: ConsoleSignIn;
}

/** The Lambda handler of a silo tenant's review API. */
export function makeReviewHandler(
  api: ReviewApi,
  telemetry: Telemetry,
  tenantId: string,
  reviewConsole: ConsoleOptions = {},
) {
  type Route = (event: APIGatewayProxyEvent, api: ReviewApi) => Promise<ApiResult>;
  const own: TenantApi = async () => ({ tenantId, api });
  const reviewer = Object.fromEntries(
    Object.entries(reviewerRoutes(own)).map(([r, methods]) => [`${REVIEWER_ROUTE_PREFIX}${r}`, methods]),
  );
  const routes: Routes<ReviewApi, ApiResult> = {
    ...ROUTES,
    ...(reviewer as Record<string, Record<string, Route>>),
    ...consoleRoutes(reviewConsole.signIn, async () => [{ id: tenantId, isolation: 'silo' }], false),
  };
  return makeRoutedHandler({
    routes,
    context: api,
    telemetry,
    name: 'review',
    routeOf: (event) => event.resource,
    respond: response,
  });
}

/**
 * The Lambda handler of a pool cell's review API: each route of {@link ROUTES} under {@link POOLED_REVIEW_PREFIX},
 * the reviewer routes under `/v1/reviewer/tenants/{tenantId}`, on the review API of the path's tenant (`apiOf`
 * refuses a tenant the cell does not serve); the console lists `consoleTenants`.
 */
export function makePooledReviewHandler(
  apiOf: (tenantId: string) => Promise<ReviewApi>,
  telemetry: Telemetry,
  reviewConsole: ConsoleOptions & { readonly tenants: ConsoleTenants } = { tenants: async () => [] },
) {
  type Route = (event: APIGatewayProxyEvent, api: ReviewApi) => Promise<ApiResult>;
  const pathTenant = (event: APIGatewayProxyEvent) => event.pathParameters?.tenantId ?? '';
  const tools = Object.fromEntries(
    Object.entries(ROUTES).map(([resource, methods]) => [
      pooledResource(resource),
      Object.fromEntries(
        Object.entries(methods as Record<string, Route>).map(([method, route]) => [
          method,
          async (event: APIGatewayProxyEvent) => route(event, await apiOf(pathTenant(event))),
        ]),
      ),
    ]),
  );
  const ofPath: TenantApi = async (event) => {
    const tenantId = pathTenant(event);
    return { tenantId, api: await apiOf(tenantId) };
  };
  const reviewer = Object.fromEntries(
    Object.entries(reviewerRoutes(ofPath)).map(([r, methods]) => [
      `${REVIEWER_ROUTE_PREFIX}/tenants/{tenantId}${r}`,
      methods,
    ]),
  );
  return makeRoutedHandler({
    routes: { ...tools, ...reviewer, ...consoleRoutes(reviewConsole.signIn, reviewConsole.tenants, true) },
    context: undefined,
    telemetry,
    name: 'review',
    routeOf: (event) => event.resource,
    respond: response,
  });
}
