/**
 * Loose types and small readers for synthesized CloudFormation templates and the IAM policies in them, shared by
 * the offline IAM evaluator (iam-eval.ts), the isolation matrix and the template tests (test/lib/template-utils.ts
 * re-exports them). Intrinsic functions read as text: see {@link flatten}.
 */

/** A CloudFormation resource as it appears in a template. */
export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

/** A template, loosely typed. */
export interface TemplateLike {
  readonly Resources: Record<string, CfnResourceJson>;
  readonly Outputs?: Record<string, { Value: unknown; Export?: { Name: string } }>;
  readonly Metadata?: Record<string, unknown>;
  readonly Parameters?: Record<string, unknown>;
}

/** An IAM policy statement, loosely typed. */
export interface StatementJson {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Principal?: unknown;
  readonly NotPrincipal?: unknown;
  readonly Condition?: unknown;
}

/** `v` as an array (`undefined` → `[]`). */
export function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/**
 * A value with intrinsics flattened to text: `Ref` → `<Name>` (so `<AWS::Partition>`), `Fn::GetAtt` → `<Id.Attr>`,
 * `Fn::Join` joined, `Fn::ImportValue` → `<Import:Name>`, `Fn::GetStackOutput` (a weak cross-stack reference) →
 * `<Output:Stack.OutputName>`; a literal `arn:aws:` partition reads as `arn:<AWS::Partition>:`. Anything else is JSON.
 */
export function flatten(v: unknown): string {
  // The partition is a literal once the region is known (cdk.json feature flags): read both forms alike.
  if (typeof v === 'string') return v.replace(/^arn:aws:/, 'arn:<AWS::Partition>:');
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string') return `<${o.Ref}>`;
    const getAtt = o['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
    const join = o['Fn::Join'];
    if (Array.isArray(join)) return (join[1] as unknown[]).map(flatten).join(join[0] as string);
    if (o['Fn::ImportValue'] !== undefined) return `<Import:${flatten(o['Fn::ImportValue'])}>`;
    const output = o['Fn::GetStackOutput'] as { StackName?: unknown; OutputName?: unknown } | undefined;
    if (output !== undefined) return `<Output:${flatten(output.StackName)}.${flatten(output.OutputName)}>`;
  }
  return JSON.stringify(v);
}

/**
 * Whether `value` matches the IAM wildcard `pattern` (`*` any run of characters, `?` one character), compared
 * exactly or, with `ignoreCase`, case-insensitively. Greedy matching with one backtrack point: no regular
 * expression is built from policy text, and a pattern of many `*` cannot make it exponential.
 */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  let pi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  while (vi < v.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === v[vi])) {
      pi++;
      vi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = vi;
    } else if (star >= 0) {
      pi = star + 1;
      vi = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** True when an IAM action pattern (`kms:*`, `kms:Decrypt*`, `*`) covers `action` (actions ignore case). */
export function actionCovers(pattern: string, action: string): boolean {
  return wildcardMatch(pattern, action, true);
}

/** Statements of a policy document. */
export function statementsOf(doc: unknown): StatementJson[] {
  return asArray((doc as { Statement?: StatementJson | StatementJson[] } | undefined)?.Statement);
}
