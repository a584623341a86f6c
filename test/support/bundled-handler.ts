/**
 * Loads the handler file CDK packaged (the asset folder named in the function's `aws:asset:path`
 * metadata), with the environment the template gives the function. Nothing from the TypeScript source
 * is imported: this is the code that would run in Lambda.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { TemplateJson } from './dynalite-server';

export type ProxyHandler = (event: APIGatewayProxyEvent, context?: Partial<Context>) => Promise<APIGatewayProxyResult>;

/** The packaged `index.js` path of a function in a synthesized template. */
export function assetFileOf(template: TemplateJson, outdir: string, functionLogicalId: string): string {
  const fn = template.Resources[functionLogicalId];
  const assetPath = fn?.Metadata?.['aws:asset:path'] as string | undefined;
  if (!assetPath) throw new Error(`${functionLogicalId} has no aws:asset:path metadata`);
  const file = path.join(outdir, assetPath, 'index.js');
  if (!fs.existsSync(file)) throw new Error(`Packaged handler not found: ${file}`);
  return file;
}

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
  const vars = ((opts.template.Resources[opts.functionLogicalId]?.Properties?.Environment as { Variables?: object })
    ?.Variables ?? {}) as Record<string, unknown>;
  const resolved: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) {
    if (k in opts.env) continue; // the caller sets it (e.g. an ARN the template builds with Fn::Join)
    if (typeof v === 'string') resolved[k] = v;
    else if (v && typeof v === 'object' && 'Ref' in v) {
      const target = opts.refs[(v as { Ref: string }).Ref];
      if (target === undefined) throw new Error(`No value for Ref ${(v as { Ref: string }).Ref} (env ${k})`);
      resolved[k] = target;
    } else if (v && typeof v === 'object' && 'Fn::GetAtt' in v) {
      const [id, attr] = (v as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
      const target = opts.refs[`${id}.${attr}`];
      if (target === undefined) throw new Error(`No value for Fn::GetAtt ${id}.${attr} (env ${k})`);
      resolved[k] = target;
    } else throw new Error(`Cannot resolve env ${k}: ${JSON.stringify(v)}`);
  }
  Object.assign(process.env, resolved, opts.env);
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
