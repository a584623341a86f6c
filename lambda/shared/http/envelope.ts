/** API Gateway proxy responses: JSON bodies and the error envelope every non-2xx response carries. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ApiError, type DomainError, ERROR_CODES, type ErrorEnvelope } from '../errors';

const BASE_HEADERS = {
  'content-type': 'application/json',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/** A JSON response. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode: status, headers: { ...BASE_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/**
 * The error envelope for a domain error: the status its code maps to (`ERROR_CODES`), `Retry-After` where the
 * error says when to retry, and the extra headers of an adapter's own `ApiError` (e.g. `Allow`).
 */
export function errorResponse(err: DomainError, requestId: string): APIGatewayProxyResult {
  const envelope: ErrorEnvelope = { error: { code: err.code, message: err.message, requestId } };
  const headers: Record<string, string> = { ...(err instanceof ApiError ? err.headers : {}) };
  if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
  return json(ERROR_CODES[err.code], envelope, headers);
}

/** A 500 that says nothing about internals (no stack, no message from the error). */
export function internalError(requestId: string): APIGatewayProxyResult {
  return errorResponse(
    new ApiError('internal_error', 'Internal error; retry later or contact the platform team with the requestId'),
    requestId,
  );
}
