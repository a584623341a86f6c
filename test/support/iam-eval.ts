/**
 * A small evaluator of synthesized IAM policy statements (identity, resource and trust policies), for the
 * questions template tests ask: "may this role write an item whose partition key is REV#…?", "may this principal
 * assume the reviewer role?". It follows IAM's rules for what it supports (explicit deny wins; an allow needs
 * action, principal, resource and every condition to match; `ForAllValues` and negated operators hold for an
 * absent key; a `${key}` policy variable without a value matches nothing) and throws on any condition operator it
 * does not know, so a policy it cannot read never passes a test by being misread. It is not IAM: what AWS puts in
 * the request context is not something a local test can know (see the README's list of what is unverified).
 */
import { actionCovers, asArray, flatten, type StatementJson } from '../lib/template-utils';

/**
 * A request as IAM sees it: action, resource (flattened like template-utils' `flatten`), context keys and, for
 * resource and trust policies, the calling principal's ARN (a role session: the role's ARN) in `<AWS::AccountId>`.
 */
export interface IamRequest {
  readonly action: string;
  readonly resource?: string;
  readonly principal?: string;
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

/** The account root as synthesized statements name it (the account a token or an id). */
const ACCOUNT_ROOT = /^arn:<AWS::Partition>:iam::([^:]+):root$/;

const glob = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(value);

function contextValues(req: IamRequest, key: string): string[] | undefined {
  const found = Object.entries(req.context ?? {}).find(([k]) => k.toLowerCase() === key.toLowerCase());
  return found === undefined ? undefined : asArray(found[1] as string | string[]).map(flatten);
}

/** `${key}` policy variables replaced from the request context; undefined when one has no single value. */
function substitute(pattern: string, req: IamRequest): string | undefined {
  let missing = false;
  const out = pattern.replace(/\$\{([^}]+)\}/g, (_m, key: string) => {
    const v = contextValues(req, key);
    if (v?.length !== 1) missing = true;
    return v?.[0] ?? '';
  });
  return missing ? undefined : out;
}

function conditionHolds(operator: string, key: string, expected: unknown, req: IamRequest): boolean {
  const values = contextValues(req, key);
  const raw = asArray(expected as string | string[]).map(flatten);
  const patterns = raw.map((e) => substitute(e, req)).filter((p): p is string => p !== undefined);
  const single = values !== undefined && values.length === 1 ? values[0]! : undefined;
  switch (operator) {
    case 'Null':
      // "true": the key is absent; "false": it is present.
      return raw[0] === 'true' ? values === undefined : values !== undefined;
    case 'ForAllValues:StringLike':
      return (values ?? []).every((v) => patterns.some((p) => glob(p, v)));
    case 'ForAllValues:StringEquals':
      return (values ?? []).every((v) => patterns.includes(v));
    case 'StringEquals':
    case 'ArnEquals':
      return single !== undefined && patterns.includes(single);
    case 'StringLike':
    case 'ArnLike':
      return single !== undefined && patterns.some((p) => glob(p, single));
    case 'StringNotEquals':
    case 'ArnNotEquals':
      return values === undefined || !values.some((v) => patterns.includes(v));
    case 'StringEqualsIfExists':
      return values === undefined || (single !== undefined && patterns.includes(single));
    default:
      throw new Error(`iam-eval: condition operator ${operator} is not supported; extend the evaluator`);
  }
}

function principalMatches(principal: unknown, req: IamRequest): boolean {
  const aws = principal === '*' ? ['*'] : asArray((principal as { AWS?: unknown } | undefined)?.AWS).map(flatten);
  if (aws.includes('*')) return true;
  if (req.principal === undefined) return false; // an anonymous caller matches only "*"
  const who = flatten(req.principal);
  return aws.some((p) => p === who || who.includes(`:${ACCOUNT_ROOT.exec(p)?.[1] ?? '-none-'}:`));
}

function matches(s: StatementJson, req: IamRequest): boolean {
  const other = s as { NotAction?: unknown; NotResource?: unknown; NotPrincipal?: unknown };
  if (other.NotAction !== undefined || other.NotResource !== undefined || other.NotPrincipal !== undefined) {
    throw new Error('iam-eval: NotAction, NotResource and NotPrincipal are not supported');
  }
  if (!asArray(s.Action).some((a) => actionCovers(a, req.action))) return false;
  if (s.Principal !== undefined && !principalMatches(s.Principal, req)) return false;
  if (s.Resource !== undefined && !asArray(s.Resource as unknown[]).some((r) => glob(flatten(r), req.resource ?? ''))) {
    return false;
  }
  const cond = (s.Condition ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(cond).every(([op, keys]) =>
    Object.entries(keys).every(([key, expected]) => conditionHolds(op, key, expected, req)),
  );
}

/** What one policy says about a request: an explicit deny, an allow, or nothing (implicit deny). */
export type Decision = 'deny' | 'allow' | 'none';

/** What `statements` (one policy: identity, resource or trust) decide for `req`. */
export function decide(statements: readonly StatementJson[], req: IamRequest): Decision {
  if (statements.some((s) => s.Effect === 'Deny' && matches(s, req))) return 'deny';
  return statements.some((s) => s.Effect === 'Allow' && matches(s, req)) ? 'allow' : 'none';
}

/** Whether `statements` (one principal's identity policies) allow `req`. */
export function allows(statements: readonly StatementJson[], req: IamRequest): boolean {
  return decide(statements, req) === 'allow';
}
