/** API Gateway proxy responses: JSON bodies and the error envelope. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ApiError, type ErrorEnvelope } from './errors';

const BASE_HEADERS = {
  'content-type': 'application/json',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/** A JSON response. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode: status, headers: { ...BASE_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** The error envelope for an `ApiError` (with `Retry-After` where the error has one). */
export function errorResponse(err: ApiError, requestId: string): APIGatewayProxyResult {
  const envelope: ErrorEnvelope = { error: { code: err.code, message: err.message, requestId } };
  const headers: Record<string, string> = { ...err.headers };
  if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
  return json(err.status, envelope, headers);
}

/** A 500 that says nothing about internals (no stack, no message from the error). */
export function internalError(requestId: string): APIGatewayProxyResult {
  return errorResponse(
    new ApiError('internal_error', 'Internal error; retry later or contact the platform team with the requestId'),
    requestId,
  );
}

/** A header value, case-insensitively. */
export function header(headers: Record<string, string | undefined> | null | undefined, name: string) {
  if (!headers) return undefined;
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === want) return v;
  return undefined;
}

/**
 * Checks an API Gateway proxy event against a route table (resource → methods): an unknown resource is
 * 404 `not_found`, a known one with another method 405 `method_not_allowed` with an `Allow` header.
 */
export function checkRoute(
  routes: Readonly<Record<string, readonly string[]>>,
  event: { resource: string; httpMethod: string; path: string },
): void {
  const methods = routes[event.resource];
  if (!methods) throw new ApiError('not_found', `No route ${event.httpMethod} ${event.path}`);
  if (!methods.includes(event.httpMethod)) {
    throw new ApiError('method_not_allowed', `${event.httpMethod} is not allowed on ${event.resource}`, undefined, {
      allow: methods.join(', '),
    });
  }
}
