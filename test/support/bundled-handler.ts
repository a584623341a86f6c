/**
 * Loads the handler file CDK packaged (the asset folder named in the function's `aws:asset:path`
 * metadata), with the environment the template gives the function. Nothing from the TypeScript source
 * is imported: this is the code that would run in Lambda.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { assetFileOf, environmentOf, type TemplateJson } from '../../local/template';

// The jest-free parts (template reading, values resolved to the local parts) live in local/template.ts.
export { assetFileOf, standInGuardrailArn, standInGuardrailId } from '../../local/template';

export type ProxyHandler = (event: APIGatewayProxyEvent, context?: Partial<Context>) => Promise<APIGatewayProxyResult>;

/**
 * Requires the packaged handler in isolation with the function's environment from the template;
 * `refs` maps `Ref` targets (e.g. the table's logical id) to the values the local servers use.
 */
export function loadBundledHandler(opts: {
  template: TemplateJson;
  outdir: string;
  functionLogicalId: string;
  refs: Record<string, string>;
  env: Record<string, string>;
}): ProxyHandler {
  return loadBundledModule<{ handler: ProxyHandler }>(opts).handler;
}

/** Like {@link loadBundledHandler}, for any handler signature (e.g. a Step Functions task). */
export function loadBundledModule<M>(opts: {
  template: TemplateJson;
  outdir: string;
  functionLogicalId: string;
  refs: Record<string, string>;
  env: Record<string, string>;
}): M {
  const file = assetFileOf(opts.template, opts.outdir, opts.functionLogicalId);
  // The caller's `env` wins (e.g. an ARN the template builds with Fn::Join).
  Object.assign(process.env, environmentOf(opts));
  let mod: M | undefined;
  jest.isolateModules(() => {
    mod = require(file);
  });
  return mod!;
}

let seq = 0;
/** An API Gateway REST proxy event as API Gateway builds it for the tenant routes. */
export function proxyEvent(opts: {
  method: string;
  resource: string;
  path?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  /** The IAM principal API Gateway authenticated (IAM-authorized routes). */
  userArn?: string;
}): APIGatewayProxyEvent {
  seq++;
  const body = opts.rawBody ?? (opts.body === undefined ? null : JSON.stringify(opts.body));
  return {
    resource: opts.resource,
    path: opts.path ?? opts.resource,
    httpMethod: opts.method,
    headers: { 'content-type': 'application/json', 'x-api-key': 'test-key', ...opts.headers },
    multiValueHeaders: {},
    queryStringParameters: opts.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: opts.pathParameters ?? null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      requestId: `gw-${seq}-${Date.now()}`,
      stage: 'live',
      ...(opts.userArn ? { identity: { userArn: opts.userArn } } : {}),
    } as APIGatewayProxyEvent['requestContext'],
  };
}

/** A Lambda context whose remaining time counts down from `ms`. */
export function lambdaContext(ms = 29_000): Partial<Context> {
  const end = Date.now() + ms;
  return { awsRequestId: `lambda-${Date.now()}`, getRemainingTimeInMillis: () => end - Date.now() };
}
