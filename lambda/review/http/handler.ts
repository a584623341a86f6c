/**
 * The review API's Lambda proxy handling (IAM-authorized routes under /v1/reviews): the shared router of
 * lambda/shared/http (as the inference function), the decision body, and the same error envelope.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ApiError } from '../../shared/errors';
import { dispatch, errorResponse, header, internalError, json, type Routes } from '../../shared/http';
import type { Telemetry } from '../../shared/telemetry';
import type { ApiResult, ReviewApi } from './review-api';

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

/** The review API's routes (the shared router answers 404 and 405 for the rest). */
const ROUTES: Routes<ReviewApi, ApiResult> = {
  '/v1/reviews': { GET: (event, api) => api.list(queryOf(event)) },
  '/v1/reviews/export': { GET: (event, api) => api.exportExamples(queryOf(event)) },
  '/v1/reviews/{reviewId}': { GET: (event, api) => api.get(event.pathParameters?.reviewId ?? '') },
  '/v1/reviews/{reviewId}/decision': {
    POST: (event, api) =>
      // Who AWS authenticated (IAM authorization on this route), recorded beside the self-declared reviewer.
      api.decide(
        event.pathParameters?.reviewId ?? '',
        jsonBody(event),
        event.requestContext?.identity?.userArn ?? undefined,
      ),
  },
};

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
  return async (event: APIGatewayProxyEvent, context?: Partial<Context>): Promise<APIGatewayProxyResult> => {
    const gatewayRequestId = event.requestContext?.requestId ?? context?.awsRequestId ?? randomUUID();
    const resource = event.resource;
    try {
      const result = await dispatch(ROUTES, event, api);
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
