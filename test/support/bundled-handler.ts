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
    resolved[k] = resolveValue(v, { template: opts.template, outdir: opts.outdir, refs: opts.refs, env: k });
  }
  Object.assign(process.env, resolved, opts.env);
  let mod: M | undefined;
  jest.isolateModules(() => {
    mod = require(file);
  });
  return mod!;
}

/** Pseudo parameters as the local parts see them. */
const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '111111111111',
  'AWS::URLSuffix': 'amazonaws.com',
};

/** The id the local parts give the guardrail of a logical id (what CreateGuardrail would generate). */
export function standInGuardrailId(logicalId: string): string {
  return logicalId
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 24);
}

/** The ARN the local parts give the guardrail of a logical id. */
export function standInGuardrailArn(logicalId: string): string {
  return `arn:aws:bedrock:us-east-1:111111111111:guardrail/${standInGuardrailId(logicalId)}`;
}

/**
 * What CloudFormation would give a deploy-time attribute of a resource the local parts have no stand-in to create:
 * a guardrail's ARN and id (from its logical id), a published guardrail version ("1"). Tests can still pin a value
 * through `refs`.
 */
function deployTimeValue(template: TemplateJson, id: string, attr: string | undefined): string | undefined {
  const type = template.Resources[id]?.Type;
  if (type === 'AWS::Bedrock::Guardrail' && (attr === undefined || attr === 'GuardrailArn')) {
    return standInGuardrailArn(id);
  }
  if (type === 'AWS::Bedrock::Guardrail' && attr === 'GuardrailId') return standInGuardrailId(id);
  if (type === 'AWS::Bedrock::GuardrailVersion' && attr === 'Version') return '1';
  return undefined;
}

/**
 * Resolves an environment value of a template: literals, `Ref` and `Fn::GetAtt` (from `refs`, pseudo parameters or
 * {@link deployTimeValue}), `Fn::Join`, and another stack's output (`Fn::GetStackOutput`, a weak cross-stack
 * reference) read from that stack's template in the cloud assembly.
 */
function resolveValue(
  v: unknown,
  ctx: { template: TemplateJson; outdir: string; refs: Record<string, string>; env: string },
): string {
  if (typeof v === 'string') return v;
  const o = (v ?? {}) as Record<string, unknown>;
  if (typeof o.Ref === 'string') {
    const target = ctx.refs[o.Ref] ?? PSEUDO[o.Ref] ?? deployTimeValue(ctx.template, o.Ref, undefined);
    if (target === undefined) throw new Error(`No value for Ref ${o.Ref} (env ${ctx.env})`);
    return target;
  }
  const getAtt = o['Fn::GetAtt'];
  if (Array.isArray(getAtt)) {
    const [id, attr] = getAtt as [string, string];
    const target = ctx.refs[`${id}.${attr}`] ?? deployTimeValue(ctx.template, id, attr);
    if (target === undefined) throw new Error(`No value for Fn::GetAtt ${id}.${attr} (env ${ctx.env})`);
    return target;
  }
  const join = o['Fn::Join'];
  if (Array.isArray(join) && Array.isArray(join[1])) {
    return (join[1] as unknown[]).map((x) => resolveValue(x, ctx)).join(String(join[0]));
  }
  const output = o['Fn::GetStackOutput'] as { StackName?: string; OutputName?: string } | undefined;
  if (output?.StackName && output.OutputName) {
    const file = path.join(ctx.outdir, `${output.StackName}.template.json`);
    const other = JSON.parse(fs.readFileSync(file, 'utf8')) as TemplateJson & {
      Outputs?: Record<string, { Value: unknown }>;
    };
    const value = other.Outputs?.[output.OutputName]?.Value;
    if (value === undefined) throw new Error(`No output ${output.OutputName} in ${output.StackName} (env ${ctx.env})`);
    return resolveValue(value, { ...ctx, template: other });
  }
  throw new Error(`Cannot resolve env ${ctx.env}: ${JSON.stringify(v)}`);
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
