/**
 * Which rules of a WAF web ACL would block a request body of a given size whose text may contain code, markup,
 * paths and URLs (an LLM prompt). Evaluated on the web ACL's configuration (the resolved `Rules` of an
 * `AWS::WAFv2::WebACL`), for the rule shapes Switchboard writes and those a future change is likely to add.
 */

/** How a rule of an AWS managed rule group treats the body. */
type BodyRule = { readonly kind: 'size'; readonly overBytes: number } | { readonly kind: 'content' };

/**
 * Rules of AWS managed rule groups that inspect the body, from the AWS WAF developer guide, "Baseline rule groups"
 * (https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html, read 2026-12-02).
 * Pattern rules inspect up to the body inspection limit and continue past it (oversize handling `Continue`).
 */
const MANAGED_BODY_RULES: Readonly<Record<string, Readonly<Record<string, BodyRule>>>> = {
  AWSManagedRulesCommonRuleSet: {
    SizeRestrictions_BODY: { kind: 'size', overBytes: 8 * 1024 },
    EC2MetaDataSSRF_BODY: { kind: 'content' },
    GenericLFI_BODY: { kind: 'content' },
    GenericRFI_BODY: { kind: 'content' },
    CrossSiteScripting_BODY: { kind: 'content' },
  },
  AWSManagedRulesKnownBadInputsRuleSet: {
    JavaDeserializationRCE_BODY: { kind: 'content' },
    Log4JRCE_BODY: { kind: 'content' },
  },
  AWSManagedRulesAmazonIpReputationList: {},
  AWSManagedRulesAnonymousIpList: {},
};

type Json = Record<string, unknown>;

/**
 * Keys in CloudFormation case: a construct's resolved properties are camelCase (`managedRuleGroupStatement`), a
 * template's PascalCase; every key this check reads differs only in its first letter.
 */
function pascal(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(pascal);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.charAt(0).toUpperCase() + k.slice(1), pascal(x)]));
}
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' ? (v as Json) : {});
const has = (o: Json, k: string) => Object.hasOwn(o, k);

/** True when a statement (at any depth) looks at the request body. */
function touchesBody(statement: Json): boolean {
  return /"(Body|JsonBody)"\s*:/.test(JSON.stringify(statement));
}

/** Why a statement may match a body of `bytes` bytes of free text, or `undefined`. */
function bodyMatch(statement: Json, bytes: number, path: string): string[] {
  const s = obj(statement);
  if (has(s, 'AndStatement') || has(s, 'OrStatement')) {
    const inner = obj(s.AndStatement ?? s.OrStatement).Statements;
    return (Array.isArray(inner) ? inner : []).flatMap((x, i) => bodyMatch(obj(x), bytes, `${path}/${i}`));
  }
  if (has(s, 'NotStatement')) {
    // Negated body conditions (NOT body ≤ 8 KB) block what they do not describe: treated as matching.
    const inner = obj(obj(s.NotStatement).Statement);
    return touchesBody(inner) ? [`${path}: negates a condition on the body`] : [];
  }
  if (has(s, 'RateBasedStatement')) {
    const scope = obj(obj(s.RateBasedStatement).ScopeDownStatement);
    return touchesBody(scope) ? [`${path}: rate-limits requests by their body`] : [];
  }
  if (has(s, 'RuleGroupReferenceStatement')) return [`${path}: a rule group this check cannot read`];
  for (const key of [
    'SizeConstraintStatement',
    'ByteMatchStatement',
    'RegexMatchStatement',
    'RegexPatternSetReferenceStatement',
    'XssMatchStatement',
    'SqliMatchStatement',
  ]) {
    if (!has(s, key)) continue;
    const st = obj(s[key]);
    const field = obj(st.FieldToMatch);
    const body = obj(field.Body ?? field.JsonBody);
    if (!has(field, 'Body') && !has(field, 'JsonBody')) return [];
    if (body.OversizeHandling === 'MATCH' && bytes > 16 * 1024)
      return [`${path}: matches bodies over the inspection limit (OversizeHandling MATCH)`];
    if (key === 'SizeConstraintStatement') {
      const size = Number(st.Size);
      const op = String(st.ComparisonOperator);
      const over = (op === 'GT' && bytes > size) || (op === 'GE' && bytes >= size) || (op === 'NE' && bytes !== size);
      return over ? [`${path}: blocks bodies ${op} ${size} bytes`] : [];
    }
    return [`${path}: matches body text (${key})`];
  }
  return [];
}

/**
 * The rules of a web ACL (resolved `Rules`) that would block a body of `bytes` bytes of free text: managed rule
 * groups' body rules not set to count, managed groups this check does not know, and own rules inspecting the body
 * with a block action.
 */
export function rulesBlockingBody(rules: unknown, bytes: number): string[] {
  const out: string[] = [];
  const normalized = pascal(rules);
  for (const raw of Array.isArray(normalized) ? normalized : []) {
    const rule = obj(raw);
    const name = String(rule.Name);
    const statement = obj(rule.Statement);
    const managed = obj(statement.ManagedRuleGroupStatement);
    if (has(statement, 'ManagedRuleGroupStatement')) {
      if (has(obj(rule.OverrideAction), 'Count')) continue;
      // Rules overridden to Captcha or Challenge still stop API clients: only Count and Allow let them through.
      const group = String(managed.Name);
      const known = MANAGED_BODY_RULES[group];
      if (!known) {
        out.push(`${name}: managed rule group ${group} is not known to this check (its body rules are not listed)`);
        continue;
      }
      const counted = new Set(
        (Array.isArray(managed.RuleActionOverrides) ? managed.RuleActionOverrides : [])
          .map(obj)
          .filter((o) => has(obj(o.ActionToUse), 'Count') || has(obj(o.ActionToUse), 'Allow'))
          .map((o) => String(o.Name)),
      );
      const excluded = new Set(
        (Array.isArray(managed.ExcludedRules) ? managed.ExcludedRules : []).map((o) => String(obj(o).Name)),
      );
      for (const [ruleName, how] of Object.entries(known)) {
        if (counted.has(ruleName) || excluded.has(ruleName)) continue;
        if (how.kind === 'content') out.push(`${name}/${ruleName}: blocks body text it matches (code, markup, paths)`);
        else if (bytes > how.overBytes) out.push(`${name}/${ruleName}: blocks bodies over ${how.overBytes} bytes`);
      }
      continue;
    }
    // Captcha and Challenge stop an API client as surely as Block does.
    const action = obj(rule.Action);
    if (!has(action, 'Block') && !has(action, 'Captcha') && !has(action, 'Challenge')) continue;
    out.push(...bodyMatch(statement, bytes, name));
  }
  return out;
}
