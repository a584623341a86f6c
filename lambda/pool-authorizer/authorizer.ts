/**
 * The pool authorizer's adapter over its dependencies: the `x-api-key` header of a REQUEST authorizer event →
 * the core decision → API Gateway's answer (a policy, or `Unauthorized`). index.ts builds it once per container.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { type AuthorizeDeps, authorize } from './core/authorize';
import { allowPolicy, denyPolicy } from './core/policy';

/** Environment variable naming the tenant registry table. */
export const REGISTRY_TABLE_ENV = 'REGISTRY_TABLE_NAME';
/** The header carrying the key (matched case-insensitively, as HTTP header names are). */
export const API_KEY_HEADER = 'x-api-key';

/**
 * The `x-api-key` value of a request: undefined when absent, `null` when it was sent more than once (refused:
 * which copy counts would be a guess). One pass over the header names.
 */
export function apiKeyOf(event: Pick<APIGatewayRequestAuthorizerEvent, 'headers' | 'multiValueHeaders'>) {
  let found: string | undefined;
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (name.length !== API_KEY_HEADER.length || name.toLowerCase() !== API_KEY_HEADER) continue;
    if (found !== undefined) return null;
    found = value ?? undefined;
  }
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (name.length === API_KEY_HEADER.length && name.toLowerCase() === API_KEY_HEADER && (values?.length ?? 0) > 1) {
      return null;
    }
  }
  return found;
}

/** The handler over its dependencies (tests pass an in-memory registry and a clock). */
export function makeHandler(deps: AuthorizeDeps) {
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const key = apiKeyOf(event);
    if (key === null) return denyPolicy(event.methodArn);
    const decision = await authorize(key, deps);
    if (decision.outcome === 'unauthorized') throw new Error('Unauthorized');
    if (decision.outcome === 'forbidden') return denyPolicy(event.methodArn);
    return allowPolicy(decision.tenantId, event.methodArn);
  };
}
