/**
 * The review API's Lambda proxy handling (IAM-authorized routes under /v1/reviews): routes by resource and
 * method like the inference function, parses the decision body, and answers in the same error envelope.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ApiError } from '../../shared/errors';
import { checkRoute, errorResponse, header, internalError, json } from '../../shared/http';
import type { Telemetry } from '../../shared/telemetry';
import type { ApiResult, ReviewApi } from './review-api';

const ROUTES: Record<string, string[]> = {
  '/v1/reviews': ['GET'],
  '/v1/reviews/export': ['GET'],
  '/v1/reviews/{reviewId}': ['GET'],
  '/v1/reviews/{reviewId}/decision': ['POST'],
};

/** The JSON body of a decision (Content-Type must say JSON; API Gateway may hand it base64-encoded). */
function jsonBody(event: APIGatewayProxyEvent): unknown {
  const type = header(event.headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json')
    throw new ApiError('unsupported_media_type', 'Content-Type must be application/json');
  try {
    return JSON.parse(
      event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? ''),
    );
  } catch (e) {
    throw new ApiError('invalid_json', `Request body is not valid JSON: ${(e as Error).message}`);
  }
}

/** Calls the route's use case. */
async function route(api: ReviewApi, event: APIGatewayProxyEvent): Promise<ApiResult> {
  checkRoute(ROUTES, event);
  const q = (event.queryStringParameters ?? {}) as Record<string, string | undefined>;
  const reviewId = event.pathParameters?.reviewId ?? '';
  if (event.resource === '/v1/reviews') return api.list(q);
  if (event.resource === '/v1/reviews/export') return api.exportExamples(q);
  if (event.resource === '/v1/reviews/{reviewId}') return api.get(reviewId);
  const body = jsonBody(event);
  // Who AWS authenticated (IAM authorization on this route), recorded beside the self-declared reviewer.
  const caller = event.requestContext?.identity?.userArn ?? undefined;
  return api.decide(reviewId, body, caller ?? undefined);
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
  return async (event: APIGatewayProxyEvent, context?: Partial<Context>): Promise<APIGatewayProxyResult> => {
    const gatewayRequestId = event.requestContext?.requestId ?? context?.awsRequestId ?? randomUUID();
    const resource = event.resource;
    try {
      const result = await route(api, event);
      telemetry.log('INFO', 'review request handled', { route: resource, status: result.status, gatewayRequestId });
      return response(result);
    } catch (e) {
      if (e instanceof ApiError) {
        telemetry.log(e.status >= 500 ? 'ERROR' : 'INFO', 'review request refused', {
          route: resource,
          code: e.code,
          gatewayRequestId,
        });
        return errorResponse(e, gatewayRequestId);
      }
      telemetry.log('ERROR', 'unhandled error', { route: resource, gatewayRequestId, error: (e as Error)?.name });
      return internalError(gatewayRequestId);
    }
  };
}
