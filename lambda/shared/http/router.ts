/**
 * The APIs' router: a table of resource → method → handler over API Gateway proxy events. An unknown
 * resource is 404 `not_found`, a known one with another method 405 `method_not_allowed` with an `Allow` header.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ApiError } from '../errors';

/** A header value, case-insensitively. */
export function header(headers: Record<string, string | undefined> | null | undefined, name: string) {
  if (!headers) return undefined;
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === want) return v;
  return undefined;
}

/** Checks an event against a route table (resource → methods); see the file header. */
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

/** The handlers of an API, by resource and method; each gets the event and the invocation's context `C`. */
export type Routes<C, R> = Readonly<
  Record<string, Readonly<Record<string, (event: APIGatewayProxyEvent, context: C) => Promise<R>>>>
>;

/** Calls the handler of the event's resource and method (throws 404 / 405 as `checkRoute`). */
export function dispatch<C, R>(routes: Routes<C, R>, event: APIGatewayProxyEvent, context: C): Promise<R> {
  checkRoute(
    Object.fromEntries(Object.entries(routes).map(([resource, methods]) => [resource, Object.keys(methods)])),
    event,
  );
  return routes[event.resource]![event.httpMethod]!(event, context);
}
