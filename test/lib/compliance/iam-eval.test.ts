import {
  allows,
  decide,
  decideAccess,
  type IamRequest,
  principalMatch,
  type SourcedStatement,
} from '../../../lib/compliance/iam-eval';
import { type StatementJson, wildcardMatch } from '../../../lib/compliance/template-json';

const TABLE = 'arn:<AWS::Partition>:dynamodb:us-east-1:<AWS::AccountId>:table/<S/Ledger>';
const ROLE = 'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/<S/Role>';
const ROOT = 'arn:<AWS::Partition>:iam::<AWS::AccountId>:root';
const allow = (extra: Partial<StatementJson>): StatementJson => ({
  Effect: 'Allow',
  Action: 'dynamodb:GetItem',
  Resource: TABLE,
  ...extra,
});
const get = (context?: IamRequest['context'], extra: Partial<IamRequest> = {}): IamRequest => ({
  action: 'dynamodb:GetItem',
  resource: TABLE,
  context,
  ...extra,
});
const leading = (...keys: string[]) => ({ 'dynamodb:LeadingKeys': keys });
const tagged = (tenant: string) => ({ 'aws:PrincipalTag/switchboard:tenant': tenant });

describe('iam-eval decide', () => {
  const cases: Array<[string, StatementJson[], IamRequest, 'allow' | 'deny' | 'none']> = [
    ['an allow matching action and resource', [allow({})], get(), 'allow'],
    ['an action it does not name', [allow({})], get(undefined, { action: 'dynamodb:Scan' }), 'none'],
    ['action wildcards, any case', [allow({ Action: 'DynamoDB:Get*' })], get(), 'allow'],
    ['explicit deny wins over an allow', [allow({}), allow({ Effect: 'Deny' })], get(), 'deny'],
    ['a wildcard resource covers every table', [allow({ Resource: 'arn:*:dynamodb:*:*:table/*' })], get(), 'allow'],
    [
      'a resource of another table',
      [allow({ Resource: `${TABLE}X` })],
      get(undefined, { resource: `${TABLE}Y` }),
      'none',
    ],
    [
      'NotAction allows every other action',
      [{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }],
      get(undefined, { action: 'dynamodb:Scan' }),
      'allow',
    ],
    ['NotAction excludes what it names', [{ Effect: 'Allow', NotAction: 'dynamodb:*', Resource: '*' }], get(), 'none'],
    ['NotResource excludes what it names', [allow({ Resource: undefined, NotResource: TABLE })], get(), 'none'],
    ['NotResource allows every other resource', [allow({ Resource: undefined, NotResource: 'x' })], get(), 'allow'],
    [
      'a positive condition on a missing key fails',
      [allow({ Condition: { StringEquals: { 'aws:PrincipalTag/switchboard:tenant': 'acme' } } })],
      get(),
      'none',
    ],
    [
      'IfExists holds for a missing key',
      [allow({ Condition: { StringEqualsIfExists: { 'aws:PrincipalTag/x': 'acme' } } })],
      get(),
      'allow',
    ],
    [
      'IfExists checks a present key',
      [allow({ Condition: { StringEqualsIfExists: { 'aws:PrincipalTag/x': 'acme' } } })],
      get({ 'aws:PrincipalTag/x': 'globex' }),
      'none',
    ],
    [
      'ForAllValues holds for an absent key (the trap the Null guard closes)',
      [allow({ Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['T#acme#*'] } } })],
      get(),
      'allow',
    ],
    [
      'Null false refuses the absent key',
      [
        allow({
          Condition: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['T#acme#*'] },
            Null: { 'dynamodb:LeadingKeys': 'false' },
          },
        }),
      ],
      get(),
      'none',
    ],
    [
      'ForAllValues refuses a set with one foreign value',
      [allow({ Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['T#acme#*'] } } })],
      get(leading('T#acme#1', 'T#globex#1')),
      'none',
    ],
    [
      'ForAnyValue fails for an absent key',
      [allow({ Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['a'] } } })],
      get(),
      'none',
    ],
    [
      'ForAnyValue holds when one value matches',
      [allow({ Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['a'] } } })],
      get({ 'aws:TagKeys': ['b', 'a'] }),
      'allow',
    ],
    [
      'a policy variable resolves from the request',
      [allow({ Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`T#\${aws:PrincipalTag/t}#*`] } } })],
      get({ ...leading('T#acme#REQ#1'), 'aws:PrincipalTag/t': 'acme' }),
      'allow',
    ],
    [
      'a policy variable absent from the request matches nothing',
      [allow({ Condition: { StringLike: { 'dynamodb:LeadingKeys': [`T#\${aws:PrincipalTag/t}#*`] } } })],
      get(leading('T##REQ#1')),
      'none',
    ],
    [
      'a policy variable in the resource',
      [allow({ Resource: `${TABLE}/\${aws:PrincipalTag/t}` })],
      get({ 'aws:PrincipalTag/t': 'acme' }, { resource: `${TABLE}/acme` }),
      'allow',
    ],
    [
      'negated operators hold for an absent key (a deny fires)',
      [allow({}), allow({ Effect: 'Deny', Condition: { ArnNotEquals: { 'aws:PrincipalArn': ROLE } } })],
      get(),
      'deny',
    ],
    [
      'a negated deny spares the principal it names',
      [allow({}), allow({ Effect: 'Deny', Condition: { ArnNotEquals: { 'aws:PrincipalArn': ROLE } } })],
      get({ 'aws:PrincipalArn': ROLE }),
      'allow',
    ],
    [
      'ArnLike takes wildcards',
      [allow({ Condition: { ArnLike: { 'aws:SourceArn': 'arn:*:states:*:*:stateMachine:acme-*' } } })],
      get({ 'aws:SourceArn': 'arn:aws:states:us-east-1:1:stateMachine:acme-x' }),
      'allow',
    ],
    [
      'Bool compares without case',
      [allow({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }), allow({})],
      get({ 'aws:SecureTransport': 'FALSE' }),
      'deny',
    ],
    [
      'Bool on a secure request lets the allow stand',
      [allow({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }), allow({})],
      get({ 'aws:SecureTransport': 'true' }),
      'allow',
    ],
    [
      'condition keys ignore case, values do not',
      [allow({ Condition: { StringEquals: { 'AWS:PRINCIPALTAG/switchboard:tenant': 'acme' } } })],
      get(tagged('ACME')),
      'none',
    ],
    [
      'StringEqualsIgnoreCase',
      [allow({ Condition: { StringEqualsIgnoreCase: { 'aws:PrincipalTag/switchboard:tenant': 'acme' } } })],
      get(tagged('ACME')),
      'allow',
    ],
    [
      'a single-valued operator with several request values holds when one matches',
      [allow({ Condition: { StringLike: { 'dynamodb:LeadingKeys': 'T#acme#*' } } })],
      get(leading('T#globex#1', 'T#acme#1')),
      'allow',
    ],
    [
      'all conditions must hold',
      [allow({ Condition: { StringEquals: { 'aws:PrincipalTag/a': '1', 'aws:PrincipalTag/b': '2' } } })],
      get({ 'aws:PrincipalTag/a': '1' }),
      'none',
    ],
  ];
  it.each(cases)('%s', (_name, statements, req, expected) => {
    expect(decide(statements, req)).toBe(expected);
  });

  it.each(['NumericLessThan', 'DateGreaterThan', 'IpAddress', 'BinaryEquals', 'ForAllValues:Null', 'StringMatches'])(
    'throws on the operator it does not know: %s',
    (op) => {
      expect(() => decide([allow({ Condition: { [op]: { 'aws:x': '1' } } })], get({ 'aws:x': '1' }))).toThrow(op);
    },
  );

  it('throws on NotPrincipal', () => {
    expect(() => decide([allow({ NotPrincipal: { AWS: ROLE } })], get())).toThrow('NotPrincipal');
  });

  it('matches wildcards without regular expressions, in time linear in practice', () => {
    expect(wildcardMatch('a*b?c*', 'aXXbYcZZ')).toBe(true);
    expect(wildcardMatch('a*b?c', 'aXXbYcZ')).toBe(false);
    expect(wildcardMatch('[.+]', '[.+]')).toBe(true);
    const hostile = `${'*a'.repeat(2000)}b`;
    const started = Date.now();
    expect(wildcardMatch(hostile, 'a'.repeat(5000))).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('iam-eval principals and access', () => {
  it('names a principal directly, through its account, or not at all', () => {
    const req = { action: 'x', principal: ROLE };
    expect(principalMatch({ AWS: ROLE }, req)).toBe('direct');
    expect(principalMatch('*', req)).toBe('direct');
    expect(principalMatch({ AWS: ['*'] }, { action: 'x' })).toBe('direct');
    expect(principalMatch({ AWS: ROOT }, req)).toBe('account');
    expect(principalMatch({ AWS: '<AWS::AccountId>' }, req)).toBe('account');
    expect(principalMatch({ AWS: 'arn:aws:iam::111122223333:root' }, req)).toBe('none');
    expect(principalMatch({ Service: 'lambda.amazonaws.com' }, req)).toBe('none');
    expect(principalMatch({ AWS: ROLE }, { action: 'x' })).toBe('none');
  });

  const src = (statements: StatementJson[]): SourcedStatement[] =>
    statements.map((statement, i) => ({ statement, source: `p#${i}` }));
  const use = (context?: IamRequest['context']): IamRequest => ({
    action: 'kms:Decrypt',
    resource: 'arn:<AWS::Partition>:kms:us-east-1:<AWS::AccountId>:key/<S/Key>',
    principal: ROLE,
    context,
  });
  const identityAllows = src([{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }]);

  it('a key needs its key policy: an identity allow alone is not enough', () => {
    expect(decideAccess(identityAllows, { kind: 'key', statements: [] }, use()).allowed).toBe(false);
  });

  it('a key policy naming the account lets identity policies allow; naming the role suffices alone', () => {
    const toAccount = src([{ Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' }]);
    expect(decideAccess(identityAllows, { kind: 'key', statements: toAccount }, use())).toEqual({
      allowed: true,
      by: ['p#0', 'p#0'],
      explicitDeny: false,
    });
    expect(decideAccess([], { kind: 'key', statements: toAccount }, use()).allowed).toBe(false);
    const toRole = src([{ Effect: 'Allow', Principal: { AWS: ROLE }, Action: 'kms:Decrypt', Resource: '*' }]);
    expect(decideAccess([], { kind: 'key', statements: toRole }, use()).allowed).toBe(true);
  });

  it('a resource policy allow naming the principal suffices; a deny in either policy wins', () => {
    const topic = (statements: StatementJson[]) => ({ kind: 'resource' as const, statements: src(statements) });
    const publish = { ...use(), action: 'sns:Publish', resource: 'arn:t' };
    expect(
      decideAccess([], topic([{ Effect: 'Allow', Principal: '*', Action: 'sns:Publish', Resource: '*' }]), publish)
        .allowed,
    ).toBe(true);
    expect(
      decideAccess([], topic([{ Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'sns:*', Resource: '*' }]), publish)
        .allowed,
    ).toBe(false);
    const denied = decideAccess(
      src([{ Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }]),
      topic([{ Effect: 'Deny', Principal: '*', Action: 'sns:Publish', Resource: '*' }]),
      publish,
    );
    expect(denied).toEqual({ allowed: false, by: ['p#0'], explicitDeny: true });
  });

  it('names the statement it cannot read', () => {
    const odd = src([
      { Effect: 'Allow', Action: '*', Resource: '*', Condition: { NumericLessThan: { 'aws:x': '1' } } },
    ]);
    expect(() => decideAccess(odd, undefined, use())).toThrow(
      'NumericLessThan is not supported; extend the evaluator (in p#0)',
    );
  });

  it('refuses a statement of an unknown effect', () => {
    expect(() => decideAccess(src([{ Effect: 'allow', Action: '*', Resource: '*' }]), undefined, use())).toThrow(
      'Effect',
    );
  });

  it('allows() is the identity decision', () => {
    expect(allows([{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }], use())).toBe(true);
  });
});
