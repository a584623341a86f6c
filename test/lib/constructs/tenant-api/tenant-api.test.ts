import { type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  REVIEWER_TAG_KEY,
  STAGE_NAME,
  TenantApi,
  type TenantApiProps,
} from '../../../../lib/constructs/tenant-api/tenant-api';
import { decide } from '../../../support/iam-eval';
import {
  onlyResource,
  props,
  type StatementJson,
  statementsOf,
  type TemplateLike,
  testApp,
} from '../../template-utils';

/** An inline function in `stack` (no bundling needed). */
function inlineFunction(stack: Stack, id: string): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
  });
}

/** The silo authorization of {@link build}'s API. */
const APIKEY = {
  type: 'apiKey',
  throttle: { rateLimit: 10, burstLimit: 20 },
  quota: { limit: 1000, period: 'DAY' },
} as const;

/** A TenantApi in a fresh stack, with an inline handler; `reviews` adds the review routes. */
function build(
  overrides: Partial<TenantApiProps> = {},
  opts: { reviews?: boolean; account?: string } = {},
): { stack: Stack; api: TenantApi } {
  const stack = new Stack(testApp(), 'ApiTest', { env: { region: 'us-east-1', account: opts.account } });
  const api = new TenantApi(stack, 'Api', {
    tenantId: 'demo',
    handler: inlineFunction(stack, 'Handler'),
    key: new kms.Key(stack, 'Key'),
    authorization: APIKEY,
    ...(opts.reviews ? { reviewHandler: inlineFunction(stack, 'ReviewHandler') } : {}),
    ...overrides,
  });
  return { stack, api };
}

describe('TenantApi', () => {
  it('fails when throttle.rateLimit is not positive', () => {
    expect(() => build({ authorization: { ...APIKEY, throttle: { rateLimit: 0, burstLimit: 20 } } })).toThrow(
      /authorization\.throttle\.rateLimit: 0 must be > 0/,
    );
  });

  it('fails when throttle.burstLimit is below 1', () => {
    expect(() => build({ authorization: { ...APIKEY, throttle: { rateLimit: 1, burstLimit: 0 } } })).toThrow(
      /authorization\.throttle\.burstLimit: 0 must be >= 1/,
    );
  });

  it('fails when quota.limit is below 1', () => {
    expect(() => build({ authorization: { ...APIKEY, quota: { limit: 0, period: 'MONTH' } } })).toThrow(
      /authorization\.quota\.limit: 0 must be >= 1/,
    );
  });

  it('fails with every problem in one error, naming the construct', () => {
    expect(() =>
      build({
        authorization: {
          type: 'apiKey',
          throttle: { rateLimit: -1, burstLimit: 0 },
          quota: { limit: 0, period: 'MONTH' },
        },
      }),
    ).toThrow(
      /^TenantApi ApiTest\/Api: authorization\.throttle\.rateLimit: -1 must be > 0; authorization\.throttle\.burstLimit: 0 must be >= 1; authorization\.quota\.limit: 0 must be >= 1$/,
    );
  });

  it('deploys with one `new`: usage plan from the props, no WAF association without a web ACL, no CloudWatch role', () => {
    const t = Template.fromStack(build().stack);
    t.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 10, BurstLimit: 20 },
      Quota: { Limit: 1000, Period: 'DAY' },
    });
    t.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
    t.resourceCountIs('AWS::ApiGateway::Account', 0);
    t.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: STAGE_NAME });
  });

  it('times the integration out at 29 s by default and at integrationTimeout when given', () => {
    const byDefault = Template.fromStack(build().stack).findResources('AWS::ApiGateway::Method');
    for (const m of Object.values(byDefault)) expect(m.Properties.Integration.TimeoutInMillis).toBe(29_000);
    const custom = Template.fromStack(build({ integrationTimeout: Duration.seconds(12) }).stack).findResources(
      'AWS::ApiGateway::Method',
    );
    expect(Object.keys(custom)).toHaveLength(3);
    for (const m of Object.values(custom)) expect(m.Properties.Integration.TimeoutInMillis).toBe(12_000);
  });

  it('keeps both log groups for a year by default and for logRetention when given', () => {
    const days = (t: Template) =>
      Object.values(t.findResources('AWS::Logs::LogGroup')).map((g) => g.Properties.RetentionInDays as number);
    expect(days(Template.fromStack(build().stack))).toEqual([365, 365]);
    expect(days(Template.fromStack(build({ logRetention: logs.RetentionDays.ONE_MONTH }).stack))).toEqual([30, 30]);
  });

  it('associates the stage with the web ACL when one is given', () => {
    const t = Template.fromStack(
      build({ webAclArn: 'arn:aws:wafv2:us-east-1:111122223333:regional/webacl/x/1' }).stack,
    );
    t.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: 'arn:aws:wafv2:us-east-1:111122223333:regional/webacl/x/1',
    });
  });

  it('lets API Gateway invoke the handlers only through the live stage, never from a test invocation (which skips API key, IAM and WAF)', () => {
    const { stack, api } = build({}, { reviews: true });
    const stage = stack.getLogicalId(api.api.deploymentStage.node.defaultChild as CfnElement);
    const perms = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Permission'));
    const sources = perms.map((p) => JSON.stringify(stack.resolve(p.Properties.SourceArn)));
    // One permission per method (3 API-key routes, 4 review routes), each for the deployed stage only.
    expect(sources).toHaveLength(7);
    for (const s of sources) {
      expect(s).not.toContain('test-invoke-stage');
      expect(s).toContain(`"/",{"Ref":"${stage}"},"/`);
    }
  });

  it('exposes the base URL of the live stage', () => {
    const { stack, api } = build();
    expect(JSON.stringify(stack.resolve(api.url))).toMatch(/execute-api\.us-east-1\..*"Ref":"ApiDeploymentStagelive/);
  });
});

describe('TenantApi review access (reviewer trust, resource policy)', () => {
  const ACCOUNT = '111122223333';
  const ROLE = `arn:aws:iam::${ACCOUNT}:role/AcmeReviewers`;
  const USER = `arn:aws:iam::${ACCOUNT}:user/dana`;
  /** The reviewer role's trust statements and the API's resource policy, as synthesized. */
  const synthesized = (reviewerPrincipals?: string[]) => {
    const { stack, api } = build({ reviewerPrincipals }, { reviews: true, account: ACCOUNT });
    const t = Template.fromStack(stack).toJSON() as unknown as TemplateLike;
    const roleId = stack.getLogicalId(api.reviewerRole!.node.defaultChild as CfnElement);
    const [, restApi] = onlyResource(t, 'AWS::ApiGateway::RestApi');
    return {
      trust: statementsOf(props(t.Resources[roleId]!).AssumeRolePolicyDocument),
      resourcePolicy: statementsOf(props(restApi).Policy),
      reviewerRole: `<${roleId}.Arn>`,
    };
  };
  /** Whether `principal` may assume the role with this source identity and session name (both actions). */
  const mayAssume = (
    trust: StatementJson[],
    principal: string,
    ctx: { sourceIdentity?: string; session: string; tags?: Record<string, string> },
  ) =>
    ['sts:AssumeRole', 'sts:SetSourceIdentity'].every(
      (action) =>
        decide(trust, {
          action,
          principal,
          context: {
            'aws:PrincipalArn': principal,
            'sts:RoleSessionName': ctx.session,
            ...(ctx.sourceIdentity ? { 'sts:SourceIdentity': ctx.sourceIdentity } : {}),
            ...(principal.includes(':user/') ? { 'aws:username': principal.split('/').pop()! } : {}),
            ...Object.fromEntries(Object.entries(ctx.tags ?? {}).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
          },
        }) === 'allow',
    );

  it('lets no other principal of the account assume the reviewer role, only the named reviewers', () => {
    const { trust } = synthesized([ROLE, USER]);
    const as = { sourceIdentity: 'mallory', session: 'mallory' };
    expect(mayAssume(trust, `arn:aws:iam::${ACCOUNT}:role/OtherTenantOperators`, as)).toBe(false);
    expect(mayAssume(trust, `arn:aws:iam::${ACCOUNT}:role/Admin`, as)).toBe(false);
    expect(mayAssume(trust, ROLE, { sourceIdentity: 'dana', session: 'dana' })).toBe(true);
  });

  it('requires a source identity and makes it the session name, so the userArn the review API records names it', () => {
    const { trust } = synthesized([ROLE]);
    expect(mayAssume(trust, ROLE, { session: 'dana' })).toBe(false);
    expect(mayAssume(trust, ROLE, { sourceIdentity: 'dana', session: 'anyone-else' })).toBe(false);
    expect(mayAssume(trust, ROLE, { sourceIdentity: 'dana', session: 'dana' })).toBe(true);
  });

  it('lets an IAM user assume it only with its own user name as the source identity', () => {
    const { trust } = synthesized([USER]);
    expect(mayAssume(trust, USER, { sourceIdentity: 'eve', session: 'eve' })).toBe(false);
    expect(mayAssume(trust, USER, { sourceIdentity: 'dana', session: 'dana' })).toBe(true);
  });

  it(`without named reviewers, trusts only principals tagged ${REVIEWER_TAG_KEY} with the tenant id`, () => {
    const { trust } = synthesized();
    const someone = `arn:aws:iam::${ACCOUNT}:role/Someone`;
    const as = { sourceIdentity: 'dana', session: 'dana' };
    expect(mayAssume(trust, someone, as)).toBe(false);
    expect(mayAssume(trust, someone, { ...as, tags: { [REVIEWER_TAG_KEY]: 'other' } })).toBe(false);
    // The tenant stack tags its own roles switchboard:tenant: that tag is not enough.
    expect(mayAssume(trust, someone, { ...as, tags: { 'switchboard:tenant': 'demo' } })).toBe(false);
    expect(mayAssume(trust, someone, { ...as, tags: { [REVIEWER_TAG_KEY]: 'demo' } })).toBe(true);
  });

  it('fails when a reviewer principal is not an IAM role or user ARN of this account', () => {
    expect(() => build({ reviewerPrincipals: ['arn:aws:iam::*:role/R'] }, { reviews: true })).toThrow(
      /reviewerPrincipals: arn:aws:iam::\*:role\/R is not the ARN of an IAM role or user/,
    );
    expect(() =>
      build({ reviewerPrincipals: ['arn:aws:iam::444455556666:role/R'] }, { reviews: true, account: ACCOUNT }),
    ).toThrow(/reviewerPrincipals: arn:aws:iam::444455556666:role\/R is not in this stack's account 111122223333/);
  });

  /** API Gateway's decision on an IAM-authorized route in one account: IAM or the resource policy allows, neither denies. */
  const gateway = (resourcePolicy: StatementJson[], identity: StatementJson[], principal: string, route: string) => {
    const req = {
      action: 'execute-api:Invoke',
      resource: `execute-api:/live/${route}`,
      principal,
      context: { 'aws:PrincipalArn': principal },
    };
    const [byPolicy, byIdentity] = [decide(resourcePolicy, req), decide(identity, req)];
    if (byPolicy === 'deny' || byIdentity === 'deny') return 'deny';
    return byPolicy === 'allow' || byIdentity === 'allow' ? 'allow' : 'deny';
  };
  const ADMIN_POLICY: StatementJson[] = [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }];

  it.each([
    'GET/v1/reviews',
    'GET/v1/reviews/rev_0123456789',
    'POST/v1/reviews/rev_0123456789/decision',
    'GET/v1/reviews/export',
  ])(
    'refuses %s to an account principal IAM allows execute-api:Invoke on *, and allows it to the reviewer role',
    (route) => {
      const { resourcePolicy, reviewerRole } = synthesized([ROLE]);
      expect(gateway(resourcePolicy, ADMIN_POLICY, `arn:aws:iam::${ACCOUNT}:role/Admin`, route)).toBe('deny');
      expect(gateway(resourcePolicy, [], reviewerRole, route)).toBe('allow');
    },
  );

  it('leaves the API-key routes open to every caller, anonymous included (API key, usage plan and WAF decide)', () => {
    const { resourcePolicy } = synthesized([ROLE]);
    const anonymous = (route: string) =>
      decide(resourcePolicy, { action: 'execute-api:Invoke', resource: `execute-api:/live/${route}` });
    for (const route of ['POST/v1/inference', 'GET/v1/requests/req_1', 'GET/v1/usage']) {
      expect({ route, decision: anonymous(route) }).toEqual({ route, decision: 'allow' });
    }
    expect(anonymous('GET/v1/reviews')).toBe('deny');
  });

  it('deploys the API again when its resource policy changes (a new Deployment logical id)', () => {
    const deploymentIds = (extra: boolean) => {
      const { stack, api } = build({}, { reviews: true });
      if (extra) {
        api.api.addToResourcePolicy(
          new iam.PolicyStatement({
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: ['execute-api:Invoke'],
            resources: ['execute-api:/*'],
            conditions: { IpAddress: { 'aws:SourceIp': ['192.0.2.0/24'] } },
          }),
        );
      }
      return Object.keys(Template.fromStack(stack).findResources('AWS::ApiGateway::Deployment'));
    };
    const [before, after] = [deploymentIds(false), deploymentIds(true)];
    expect(before).toHaveLength(1);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before[0]);
  });
});
