/**
 * The review API's Lambda proxy handling (IAM-authorized routes under /v1/reviews): the shared router of
 * lambda/shared/http (as the inference function), its JSON body parser for the decision, and the same error
 * envelope.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { json, makeRoutedHandler, parseJsonObjectBody, type Routes, rawBodyOf } from '../../shared/http';
import { MAX_DECISION_BODY_BYTES } from '../../shared/review-schema';
import type { Telemetry } from '../../shared/telemetry';
import type { ApiResult, ReviewApi } from './review-api';

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

/** The Lambda handler of the review API. */
export function makeReviewHandler(api: ReviewApi, telemetry: Telemetry) {
  return makeRoutedHandler({
    routes: ROUTES,
    context: api,
    telemetry,
    name: 'review',
    routeOf: (event) => event.resource,
    respond: response,
  });
}

/**
 * The Lambda handler of a pool cell's review API: each route of {@link ROUTES} under {@link POOLED_REVIEW_PREFIX},
 * on the review API of the path's tenant (`apiOf` refuses a tenant the cell does not serve).
 */
export function makePooledReviewHandler(apiOf: (tenantId: string) => Promise<ReviewApi>, telemetry: Telemetry) {
  type Route = (event: APIGatewayProxyEvent, api: ReviewApi) => Promise<ApiResult>;
  const routes = Object.fromEntries(
    Object.entries(ROUTES).map(([resource, methods]) => [
      pooledResource(resource),
      Object.fromEntries(
        Object.entries(methods as Record<string, Route>).map(([method, route]) => [
          method,
          async (event: APIGatewayProxyEvent) => route(event, await apiOf(event.pathParameters?.tenantId ?? '')),
        ]),
      ),
    ]),
  );
  return makeRoutedHandler({
    routes,
    context: undefined,
    telemetry,
    name: 'review',
    routeOf: (event) => event.resource,
    respond: response,
  });
}
