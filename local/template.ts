/**
 * Reading a synthesized cloud assembly (cdk.out) the way the local parts need it: the templates, the packaged
 * handler of a function (its `aws:asset:path` folder), and CloudFormation values resolved to what the local parts
 * use (`Ref`/`Fn::GetAtt` from a map the caller gives, pseudo parameters, `Fn::Join`, `Fn::Select`, `Fn::Split`,
 * another stack's output). Shared by `npm start` (local/sandbox.ts) and the tests (test/support).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A synthesized CloudFormation template. */
export interface TemplateJson {
  readonly Resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
  >;
}

/** Pseudo parameters as the local parts see them. */
export const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '111111111111',
  'AWS::URLSuffix': 'amazonaws.com',
};

/** The packaged `index.js` path of a function in a synthesized template. */
export function assetFileOf(template: TemplateJson, outdir: string, functionLogicalId: string): string {
  const fn = template.Resources[functionLogicalId];
  const assetPath = fn?.Metadata?.['aws:asset:path'] as string | undefined;
  if (!assetPath) throw new Error(`${functionLogicalId} has no aws:asset:path metadata`);
  const file = path.join(outdir, assetPath, 'index.js');
  if (!fs.existsSync(file)) throw new Error(`Packaged handler not found: ${file}`);
  return file;
}

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
  // A review console's Cognito app client id: the console has no Cognito locally (its config says so).
  if (type === 'AWS::Cognito::UserPoolClient' && attr === undefined) return `local-client-${id}`;
  return undefined;
}

/** Where a value is resolved: its template, the cloud assembly folder, and the local values of its resources. */
export interface ResolveContext {
  readonly template: TemplateJson;
  readonly outdir: string;
  /** `Ref` targets (logical id) and `Fn::GetAtt` targets (`<logicalId>.<attr>`) of `template`. */
  readonly refs: Record<string, string>;
  /** What the value is for (in error messages), e.g. the environment variable. */
  readonly env: string;
  /**
   * The refs of another stack of the assembly (for `Fn::GetStackOutput`); without it the other stack's values are
   * looked up in `refs` too.
   */
  readonly refsOf?: (stackName: string) => Record<string, string>;
}

/**
 * Resolves a CloudFormation value of a template: literals, `Ref` and `Fn::GetAtt` (from `refs`, pseudo parameters or
 * {@link deployTimeValue}), `Fn::Join`, `Fn::Select`, `Fn::Split`, and another stack's output
 * (`Fn::GetStackOutput`, a weak cross-stack reference) read from that stack's template in the cloud assembly.
 */
export function resolveValue(v: unknown, ctx: ResolveContext): string {
  const r = resolveAny(v, ctx);
  if (Array.isArray(r)) throw new Error(`Cannot resolve ${ctx.env}: a list where a string is expected`);
  return r;
}

function resolveAny(v: unknown, ctx: ResolveContext): string | string[] {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
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
  const split = o['Fn::Split'];
  if (Array.isArray(split)) return resolveValue(split[1], ctx).split(String(split[0]));
  const select = o['Fn::Select'];
  if (Array.isArray(select)) {
    const list = resolveAny(select[1], ctx);
    const item = Array.isArray(list) ? list[Number(select[0])] : undefined;
    if (item === undefined) throw new Error(`Fn::Select ${select[0]} out of range (env ${ctx.env})`);
    return item;
  }
  const output = o['Fn::GetStackOutput'] as { StackName?: string; OutputName?: string } | undefined;
  if (output?.StackName && output.OutputName) {
    const file = path.join(ctx.outdir, `${output.StackName}.template.json`);
    const other = JSON.parse(fs.readFileSync(file, 'utf8')) as TemplateJson & {
      Outputs?: Record<string, { Value: unknown }>;
    };
    const value = other.Outputs?.[output.OutputName]?.Value;
    if (value === undefined) throw new Error(`No output ${output.OutputName} in ${output.StackName} (env ${ctx.env})`);
    return resolveValue(value, {
      ...ctx,
      template: other,
      ...(ctx.refsOf ? { refs: ctx.refsOf(output.StackName) } : {}),
    });
  }
  throw new Error(`Cannot resolve env ${ctx.env}: ${JSON.stringify(v)}`);
}

/**
 * The environment a function gets from its template (`Environment.Variables`, resolved); variables named in `env`
 * are not resolved (the caller sets them, e.g. an ARN the template builds from deploy-time values) and are added.
 */
export function environmentOf(opts: {
  template: TemplateJson;
  outdir: string;
  functionLogicalId: string;
  refs: Record<string, string>;
  env: Record<string, string>;
  refsOf?: (stackName: string) => Record<string, string>;
}): Record<string, string> {
  const vars = ((opts.template.Resources[opts.functionLogicalId]?.Properties?.Environment as { Variables?: object })
    ?.Variables ?? {}) as Record<string, unknown>;
  const resolved: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) {
    if (k in opts.env) continue;
    resolved[k] = resolveValue(v, {
      template: opts.template,
      outdir: opts.outdir,
      refs: opts.refs,
      env: k,
      ...(opts.refsOf ? { refsOf: opts.refsOf } : {}),
    });
  }
  return { ...resolved, ...opts.env };
}

/** The cloud assembly's stack templates, by stack name (`<name>.template.json` files of `outdir`). */
export function readTemplates(outdir: string): Map<string, TemplateJson> {
  const out = new Map<string, TemplateJson>();
  for (const f of fs.readdirSync(outdir).sort()) {
    if (!f.endsWith('.template.json')) continue;
    out.set(f.slice(0, -'.template.json'.length), JSON.parse(fs.readFileSync(path.join(outdir, f), 'utf8')));
  }
  return out;
}

/** Logical ids of the resources of `type` in a template. */
export function resourcesOf(template: TemplateJson, type: string): string[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id]) => id);
}
