/**
 * A Lambda proxy handler over a route table, for the APIs whose routes answer a result or throw a domain error
 * (the review and control plane APIs; the inference handler adds request metrics of its own): dispatches, logs
 * `<name> request handled` or `<name> request refused`, answers a domain error in the envelope and anything
 * else as a 500 that says nothing about internals.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { DomainError } from '../errors';
import type { Telemetry } from '../telemetry';
import { errorResponse, internalError } from './envelope';
import { dispatch, type Routes } from './router';

export interface RoutedHandlerSpec<C, R> {
  readonly routes: Routes<C, R>;
  /** What every route handler gets besides the event (the API's use cases or dependencies). */
  readonly context: C;
  readonly telemetry: Telemetry;
  /** Names the API in its log lines ("review", "control plane"). */
  readonly name: string;
  /** The route as the log lines name it. */
  readonly routeOf: (event: APIGatewayProxyEvent) => string;
  /** The proxy response of a route's result. */
  readonly respond: (result: R) => APIGatewayProxyResult;
}

export function makeRoutedHandler<C, R>(spec: RoutedHandlerSpec<C, R>) {
  const { routes, context: routeContext, telemetry, name, routeOf, respond } = spec;
  return async (event: APIGatewayProxyEvent, context?: Partial<Context>): Promise<APIGatewayProxyResult> => {
    const gatewayRequestId = event.requestContext?.requestId ?? context?.awsRequestId ?? randomUUID();
    const route = routeOf(event);
    try {
      const response = respond(await dispatch(routes, event, routeContext));
      telemetry.log('INFO', `${name} request handled`, { route, status: response.statusCode, gatewayRequestId });
      return response;
    } catch (e) {
      if (e instanceof DomainError) {
        telemetry.log(e.status >= 500 ? 'ERROR' : 'INFO', `${name} request refused`, {
          route,
          code: e.code,
          gatewayRequestId,
        });
        return errorResponse(e, gatewayRequestId);
      }
      telemetry.log('ERROR', 'unhandled error', { route, gatewayRequestId, error: (e as Error)?.name });
      return internalError(gatewayRequestId);
    }
  };
}
