/**
 * A small offline evaluator of synthesized IAM policy statements (identity, resource, key and trust policies), for
 * the questions the isolation matrix and the template tests ask: "may this role write an item whose partition key
 * is T#globex#…?", "may this principal assume the reviewer role?".
 *
 * It follows IAM's documented rules for what it supports, and throws on anything else, so a policy it cannot read
 * never passes by being misread:
 * - an explicit Deny wins; an Allow needs action (or NotAction), resource (or NotResource), principal (resource
 *   policies) and every condition to match;
 * - condition keys ignore case; `IfExists` holds for an absent key; `ForAllValues` holds for an absent key or an
 *   empty set, `ForAnyValue` fails for one; negated operators (`StringNotEquals`, `ArnNotLike`…) hold for an absent
 *   key; a single-valued operator given several request values holds when one of them does (its negation when none
 *   does);
 * - a `${key}` policy variable without exactly one value in the request matches nothing (the value or resource
 *   naming it is dropped);
 * - `ArnEquals` and `ArnLike` both take wildcards, and `*` may span the ARN's colons (IAM's rule is per segment,
 *   except a trailing `*`): this reads some patterns more widely than IAM, never more narrowly;
 * - operators: String(Not)Equals(IgnoreCase), String(Not)Like, Arn(Not)Equals, Arn(Not)Like, Bool, Null, each with
 *   the set qualifiers and `IfExists`. Numeric, date, IP and binary operators, and NotPrincipal, throw.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 *
 * Values are compared as text after {@link flatten}, so a template's intrinsics must be flattened (or resolved, as
 * the isolation matrix's resolver does) the same way in the policy and in the request. The cost is linear in the
 * policy's size times the request's (wildcards are matched without regular expressions). It is not IAM: what AWS
 * puts in a request's context is an input here.
 */
import { actionCovers, asArray, flatten, type StatementJson, wildcardMatch } from './template-json';

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

/** The account root as statements name it: `arn:…:iam::<account>:root`, the account id or its token. */
const ACCOUNT_ROOT = /^arn:(?:<AWS::Partition>|[^:<]+):iam::(<AWS::AccountId>|\d{12}):root$/;
const ACCOUNT_ID = /^(\d{12}|<AWS::AccountId>)$/;

function contextValues(req: IamRequest, key: string): string[] | undefined {
  const wanted = key.toLowerCase();
  for (const [k, v] of Object.entries(req.context ?? {})) {
    if (k.toLowerCase() === wanted) return asArray(v as string | string[]).map(flatten);
  }
  return undefined;
}

/** `${key}` policy variables replaced from the request context; undefined when one has no single value. */
function substitute(pattern: string, req: IamRequest): string | undefined {
  if (!pattern.includes('${')) return pattern;
  let missing = false;
  const out = pattern.replace(/\$\{([^}]+)\}/g, (_m, key: string) => {
    const v = contextValues(req, key);
    if (v?.length !== 1) missing = true;
    return v?.[0] ?? '';
  });
  return missing ? undefined : out;
}

/** How one base operator compares a request value with a policy value. */
type Compare = (value: string, pattern: string) => boolean;
const BASE_OPERATORS: Readonly<Record<string, { readonly compare: Compare; readonly negated: boolean }>> = {
  StringEquals: { compare: (v, p) => v === p, negated: false },
  StringNotEquals: { compare: (v, p) => v === p, negated: true },
  StringEqualsIgnoreCase: { compare: (v, p) => v.toLowerCase() === p.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { compare: (v, p) => v.toLowerCase() === p.toLowerCase(), negated: true },
  StringLike: { compare: (v, p) => wildcardMatch(p, v), negated: false },
  StringNotLike: { compare: (v, p) => wildcardMatch(p, v), negated: true },
  // ArnEquals and ArnLike behave alike (both take wildcards): see the module comment.
  ArnEquals: { compare: (v, p) => wildcardMatch(p, v), negated: false },
  ArnLike: { compare: (v, p) => wildcardMatch(p, v), negated: false },
  ArnNotEquals: { compare: (v, p) => wildcardMatch(p, v), negated: true },
  ArnNotLike: { compare: (v, p) => wildcardMatch(p, v), negated: true },
  Bool: { compare: (v, p) => v.toLowerCase() === p.toLowerCase(), negated: false },
};

/** The condition operators the evaluator reads (for tests and error messages). */
export const SUPPORTED_OPERATORS: readonly string[] = [...Object.keys(BASE_OPERATORS), 'Null'];

function conditionHolds(operator: string, key: string, expected: unknown, req: IamRequest): boolean {
  const values = contextValues(req, key);
  const raw = asArray(expected as unknown[]).map((e) => (typeof e === 'boolean' ? String(e) : flatten(e)));
  const set = /^(ForAllValues|ForAnyValue):/.exec(operator)?.[1];
  let base = set ? operator.slice(set.length + 1) : operator;
  const ifExists = base.endsWith('IfExists');
  if (ifExists) base = base.slice(0, -'IfExists'.length);
  if (base === 'Null') {
    if (set || ifExists) throw new Error(`iam-eval: condition operator ${operator} is not supported`);
    // "true": the key is absent; "false": it is present.
    const absent = values === undefined || values.length === 0;
    return raw.some((r) => (r.toLowerCase() === 'true' ? absent : !absent));
  }
  const op = BASE_OPERATORS[base];
  if (!op) throw new Error(`iam-eval: condition operator ${operator} is not supported; extend the evaluator`);
  const patterns = raw.map((e) => substitute(e, req)).filter((p): p is string => p !== undefined);
  const anyPattern = (v: string) => patterns.some((p) => op.compare(v, p));
  const holdsFor = (v: string) => (op.negated ? !anyPattern(v) : anyPattern(v));
  if (set === 'ForAllValues') return (values ?? []).every(holdsFor);
  if (set === 'ForAnyValue') return (values ?? []).some(holdsFor);
  if (values === undefined || values.length === 0) return ifExists || op.negated;
  return op.negated ? values.every(holdsFor) : values.some(holdsFor);
}

/** How a statement's `Principal` names the request's principal. */
export type PrincipalMatch = 'direct' | 'account' | 'none';

/**
 * `direct` when the statement names the principal (its ARN, or everyone: `*`), `account` when it names the
 * principal's account (which in a resource policy delegates to the account's identity policies), `none` otherwise.
 * A service principal matches a request whose principal is that service's name.
 */
export function principalMatch(principal: unknown, req: IamRequest): PrincipalMatch {
  if (principal === '*') return 'direct';
  const p = (principal ?? {}) as { AWS?: unknown; Service?: unknown; Federated?: unknown; CanonicalUser?: unknown };
  const aws = asArray(p.AWS as unknown[]).map(flatten);
  if (aws.includes('*')) return 'direct';
  if (req.principal === undefined) return 'none'; // an anonymous caller matches only "*"
  const who = flatten(req.principal);
  const others = [...asArray(p.Service as unknown[]), ...asArray(p.Federated as unknown[])].map(flatten);
  if (aws.includes(who) || others.includes(who)) return 'direct';
  const inAccount = aws.some((a) => {
    const account = ACCOUNT_ROOT.exec(a)?.[1] ?? (ACCOUNT_ID.test(a) ? a : undefined);
    return account !== undefined && who.includes(`:${account}:`);
  });
  return inAccount ? 'account' : 'none';
}

function resourceMatches(patterns: unknown, req: IamRequest): boolean {
  const resource = req.resource ?? '';
  return asArray(patterns as unknown[]).some((r) => {
    const p = substitute(flatten(r), req);
    return p !== undefined && wildcardMatch(p, resource);
  });
}

/**
 * Whether `s` applies to `req`, and how its principal matched (`direct` for statements without a Principal:
 * identity policies). Throws on NotPrincipal and on unknown condition operators.
 */
export function statementApplies(s: StatementJson, req: IamRequest): PrincipalMatch {
  if (s.NotPrincipal !== undefined) throw new Error('iam-eval: NotPrincipal is not supported');
  if (s.Action !== undefined) {
    if (!asArray(s.Action).some((a) => actionCovers(flatten(a), req.action))) return 'none';
  } else if (s.NotAction !== undefined) {
    if (asArray(s.NotAction).some((a) => actionCovers(flatten(a), req.action))) return 'none';
  } else {
    return 'none'; // neither Action nor NotAction: IAM refuses such a policy
  }
  if (s.Resource !== undefined && !resourceMatches(s.Resource, req)) return 'none';
  if (s.NotResource !== undefined && resourceMatches(s.NotResource, req)) return 'none';
  const who = s.Principal === undefined ? 'direct' : principalMatch(s.Principal, req);
  if (who === 'none') return 'none';
  const cond = (s.Condition ?? {}) as Record<string, Record<string, unknown>>;
  const holds = Object.entries(cond).every(([op, keys]) =>
    Object.entries(keys ?? {}).every(([key, expected]) => conditionHolds(op, key, expected, req)),
  );
  return holds ? who : 'none';
}

/** What one policy says about a request: an explicit deny, an allow, or nothing (implicit deny). */
export type Decision = 'deny' | 'allow' | 'none';

/**
 * What `statements` (one policy: identity, resource or trust) decide for `req`. A statement naming the principal's
 * account counts as naming the principal (as a trust policy naming the account does, once the principal's own
 * policy allows the call).
 */
export function decide(statements: readonly StatementJson[], req: IamRequest): Decision {
  if (statements.some((s) => s.Effect === 'Deny' && statementApplies(s, req) !== 'none')) return 'deny';
  return statements.some((s) => s.Effect === 'Allow' && statementApplies(s, req) !== 'none') ? 'allow' : 'none';
}

/** Whether `statements` (one principal's identity policies) allow `req`. */
export function allows(statements: readonly StatementJson[], req: IamRequest): boolean {
  return decide(statements, req) === 'allow';
}

/** A statement with where it comes from (`Stack/LogicalId` of its policy, and its Sid or index). */
export interface SourcedStatement {
  readonly statement: StatementJson;
  readonly source: string;
}

/** Which statements of a policy apply to a request, by effect and principal match. */
export interface PolicyVerdict {
  readonly denies: readonly string[];
  /** Allows naming the principal (or everyone). */
  readonly allows: readonly string[];
  /** Allows naming only the principal's account: they delegate to its identity policies. */
  readonly accountAllows: readonly string[];
}

/** The statements of a policy that apply to `req`, with their sources. */
export function verdictOf(statements: readonly SourcedStatement[], req: IamRequest): PolicyVerdict {
  const denies: string[] = [];
  const direct: string[] = [];
  const account: string[] = [];
  for (const { statement, source } of statements) {
    if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') {
      throw new Error(`iam-eval: Effect ${JSON.stringify(statement.Effect)} in ${source}`);
    }
    let m: PrincipalMatch;
    try {
      m = statementApplies(statement, req);
    } catch (e) {
      throw new Error(`${(e as Error).message} (in ${source})`);
    }
    if (m === 'none') continue;
    if (statement.Effect === 'Deny') denies.push(source);
    else (m === 'direct' ? direct : account).push(source);
  }
  return { denies, allows: direct, accountAllows: account };
}

/** How a request's resource governs access besides identity policies. */
export type ResourcePolicyKind =
  /** A KMS key policy: without its allow (direct, or to the account for identity policies to use), nothing is. */
  | 'key'
  /** A role's trust policy: like a key policy, it must allow the principal or its account, even in the same account. */
  | 'trust'
  /** Any other resource policy (same account): its direct allow suffices, as does an identity allow. */
  | 'resource';

/** The outcome of one request: allowed or not, and the statements deciding it. */
export interface AccessDecision {
  readonly allowed: boolean;
  /** The statements that allow it (when allowed) or explicitly deny it. */
  readonly by: readonly string[];
  readonly explicitDeny: boolean;
}

/**
 * IAM's decision for a principal of the resource's own account: an explicit deny in either policy wins; otherwise
 * allowed by the identity policy or by a resource policy naming the principal; a KMS key and a role (its trust
 * policy) need their policy's allow (naming the principal, or the account together with an identity allow).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policies_resource.html
 */
export function decideAccess(
  identity: readonly SourcedStatement[],
  resource: { readonly kind: ResourcePolicyKind; readonly statements: readonly SourcedStatement[] } | undefined,
  req: IamRequest,
): AccessDecision {
  const id = verdictOf(identity, req);
  const res = resource ? verdictOf(resource.statements, req) : { denies: [], allows: [], accountAllows: [] };
  const denies = [...id.denies, ...res.denies];
  if (denies.length) return { allowed: false, by: denies, explicitDeny: true };
  const delegated = res.accountAllows.length > 0 && id.allows.length > 0;
  if (resource?.kind === 'key' || resource?.kind === 'trust') {
    if (res.allows.length) return { allowed: true, by: res.allows, explicitDeny: false };
    if (delegated) return { allowed: true, by: [...id.allows, ...res.accountAllows], explicitDeny: false };
    return { allowed: false, by: [], explicitDeny: false };
  }
  const by = [...id.allows, ...res.allows];
  return { allowed: by.length > 0, by, explicitDeny: false };
}
