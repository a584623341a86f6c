/**
 * The authorizer's answer to API Gateway: an IAM policy on `execute-api:Invoke` and the context the handler
 * reads (`requestContext.authorizer.tenantId`). API Gateway caches the answer per key for the authorizer's TTL
 * and reuses it for every method of the API, so the policy names all of the stage's methods, not only the one
 * being called (a policy naming only the first method would refuse the key's next, different call).
 */
import type { APIGatewayAuthorizerResult } from 'aws-lambda';

/** `arn:…:execute-api:<region>:<account>:<api>/<stage>/*` from a method ARN (`…/<stage>/<METHOD>/<path>`). */
export function stageMethodsArn(methodArn: string): string {
  const [apiArn, stage] = methodArn.split('/', 2);
  if (!apiArn?.includes(':execute-api:') || !stage) throw new Error(`Not a method ARN: ${methodArn.slice(0, 200)}`);
  return `${apiArn}/${stage}/*`;
}

/** The context key carrying the tenant id to the handler. */
export const AUTHORIZER_TENANT_KEY = 'tenantId';

/** Allows the tenant's key on every method of the stage, with the tenant id in the context. */
export function allowPolicy(tenantId: string, methodArn: string): APIGatewayAuthorizerResult {
  return {
    principalId: tenantId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageMethodsArn(methodArn) }],
    },
    context: { [AUTHORIZER_TENANT_KEY]: tenantId },
  };
}

/** Refuses the key on every method of the stage: API Gateway answers 403 (the ACCESS_DENIED gateway response). */
export function denyPolicy(methodArn: string): APIGatewayAuthorizerResult {
  return {
    principalId: 'refused',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: stageMethodsArn(methodArn) }],
    },
  };
}
