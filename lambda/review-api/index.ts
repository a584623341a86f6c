/**
 * Review API function (API Gateway proxy, IAM-authorized routes under /v1/reviews). Routes by resource
 * and method like the inference function and answers in the same error envelope.
 */
import { randomUUID } from 'node:crypto';
import { KMSClient } from '@aws-sdk/client-kms';
import { SendTaskHeartbeatCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type ApiResult, makeReviewApi } from '../review/api';
import { makeReviewStore } from '../review/store';
import { makeKmsTokenCipher } from '../review/token-cipher';
import { ledgerDocumentClient } from '../shared/dynamo';
import { requireEnv } from '../shared/env';
import { ApiError } from '../shared/errors';
import { checkRoute, errorResponse, header, internalError, json } from '../shared/http';
import { REVIEW_ENV, ReviewRuntimeConfigSchema } from '../shared/review-schema';
import { makeTelemetry } from '../shared/telemetry';
import { LEDGER_TABLE_ENV } from '../shared/tenant-runtime';

const config = ReviewRuntimeConfigSchema.parse(JSON.parse(requireEnv(REVIEW_ENV.review)));
const telemetry = makeTelemetry({ tenantId: config.tenantId, service: 'review-api' });
const doc = ledgerDocumentClient();
const sfn = new SFNClient({ maxAttempts: 3 });
const api = makeReviewApi({
  store: makeReviewStore(doc, requireEnv(LEDGER_TABLE_ENV)),
  cipher: makeKmsTokenCipher(new KMSClient({ maxAttempts: 3 }), requireEnv(REVIEW_ENV.keyId)),
  tasks: {
    async success(token, output) {
      await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
    },
    async heartbeat(token) {
      await sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    },
  },
  telemetry,
  now: Date.now,
});

const ROUTES: Record<string, string[]> = {
  '/v1/reviews': ['GET'],
  '/v1/reviews/export': ['GET'],
  '/v1/reviews/{reviewId}': ['GET'],
  '/v1/reviews/{reviewId}/decision': ['POST'],
};

/** Lambda entry point. */
export async function handler(event: APIGatewayProxyEvent, context?: Partial<Context>): Promise<APIGatewayProxyResult> {
  const gatewayRequestId = event.requestContext?.requestId ?? context?.awsRequestId ?? randomUUID();
  const route = event.resource;
  try {
    checkRoute(ROUTES, event);
    const q = (event.queryStringParameters ?? {}) as Record<string, string | undefined>;
    const reviewId = event.pathParameters?.reviewId ?? '';
    let result: ApiResult;
    if (route === '/v1/reviews') result = await api.list(q);
    else if (route === '/v1/reviews/export') result = await api.exportExamples(q);
    else if (route === '/v1/reviews/{reviewId}') result = await api.get(reviewId);
    else {
      const type = header(event.headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/json')
        throw new ApiError('unsupported_media_type', 'Content-Type must be application/json');
      let body: unknown;
      try {
        body = JSON.parse(
          event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? ''),
        );
      } catch (e) {
        throw new ApiError('invalid_json', `Request body is not valid JSON: ${(e as Error).message}`);
      }
      // Who AWS authenticated (IAM authorization on this route), recorded beside the self-declared reviewer.
      const caller = event.requestContext?.identity?.userArn ?? undefined;
      result = await api.decide(reviewId, body, caller ?? undefined);
    }
    telemetry.log('INFO', 'review request handled', { route, status: result.status, gatewayRequestId });
    if (result.raw !== undefined) {
      return {
        statusCode: result.status,
        headers: { 'cache-control': 'no-store', ...result.headers },
        body: result.raw,
      };
    }
    return json(result.status, result.body, result.headers);
  } catch (e) {
    if (e instanceof ApiError) {
      telemetry.log(e.status >= 500 ? 'ERROR' : 'INFO', 'review request refused', {
        route,
        code: e.code,
        gatewayRequestId,
      });
      return errorResponse(e, gatewayRequestId);
    }
    telemetry.log('ERROR', 'unhandled error', { route, gatewayRequestId, error: (e as Error)?.name });
    return internalError(gatewayRequestId);
  }
}
