/**
 * A small evaluator of synthesized IAM identity-policy statements, for the questions template tests ask ("may this
 * role write an item whose partition key is REV#…?"). It follows IAM's rules for what it supports (explicit deny
 * wins; an allow needs action, resource and every condition to match; `ForAllValues` is true for an absent key)
 * and throws on any condition operator it does not know, so an unsupported policy can never pass a test by being
 * misread. It is not IAM: what AWS does with the request context is checked by the README's manual steps.
 */
import { actionCovers, asArray, flatten, type StatementJson } from '../lib/template-utils';

/** A request as IAM sees it: action, resource (flattened like template-utils' `flatten`) and context keys. */
export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

const glob = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(value);

function contextValues(req: IamRequest, key: string): string[] | undefined {
  const found = Object.entries(req.context ?? {}).find(([k]) => k.toLowerCase() === key.toLowerCase());
  return found === undefined ? undefined : asArray(found[1] as string | string[]);
}

function conditionHolds(operator: string, key: string, expected: unknown, req: IamRequest): boolean {
  const values = contextValues(req, key);
  const patterns = asArray(expected as string | string[]).map(flatten);
  switch (operator) {
    case 'Null':
      // "true": the key is absent; "false": it is present.
      return patterns[0] === 'true' ? values === undefined : values !== undefined;
    case 'ForAllValues:StringLike':
      return (values ?? []).every((v) => patterns.some((p) => glob(p, v)));
    case 'ForAllValues:StringEquals':
      return (values ?? []).every((v) => patterns.includes(v));
    case 'StringEquals':
      return values !== undefined && values.length === 1 && patterns.includes(values[0]!);
    case 'StringLike':
      return values !== undefined && values.length === 1 && patterns.some((p) => glob(p, values[0]!));
    default:
      throw new Error(`iam-eval: condition operator ${operator} is not supported; extend the evaluator`);
  }
}

function matches(s: StatementJson, req: IamRequest): boolean {
  if (
    (s as { NotAction?: unknown }).NotAction !== undefined ||
    (s as { NotResource?: unknown }).NotResource !== undefined
  )
    throw new Error('iam-eval: NotAction/NotResource are not supported');
  if (!asArray(s.Action).some((a) => actionCovers(a, req.action))) return false;
  if (!asArray(s.Resource as unknown[]).some((r) => glob(flatten(r), req.resource))) return false;
  const cond = (s.Condition ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(cond).every(([op, keys]) =>
    Object.entries(keys).every(([key, expected]) => conditionHolds(op, key, expected, req)),
  );
}

/** Whether `statements` (one principal's identity policies) allow `req`. */
export function allows(statements: readonly StatementJson[], req: IamRequest): boolean {
  if (statements.some((s) => s.Effect === 'Deny' && matches(s, req))) return false;
  return statements.some((s) => s.Effect === 'Allow' && matches(s, req));
}
