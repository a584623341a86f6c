import { type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { STAGE_NAME, TenantApi, type TenantApiProps } from '../../../../lib/constructs/tenant-api/tenant-api';
import { testApp } from '../../template-utils';

/** An inline function in `stack` (no bundling needed). */
function inlineFunction(stack: Stack, id: string): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
  });
}

/** A TenantApi in a fresh stack, with an inline handler; `reviews` adds the review routes. */
function build(
  overrides: Partial<TenantApiProps> = {},
  opts: { reviews?: boolean } = {},
): { stack: Stack; api: TenantApi } {
  const stack = new Stack(testApp(), 'ApiTest', { env: { region: 'us-east-1' } });
  const api = new TenantApi(stack, 'Api', {
    tenantId: 'demo',
    handler: inlineFunction(stack, 'Handler'),
    key: new kms.Key(stack, 'Key'),
    throttle: { rateLimit: 10, burstLimit: 20 },
    quota: { limit: 1000, period: 'DAY' },
    ...(opts.reviews ? { reviewHandler: inlineFunction(stack, 'ReviewHandler') } : {}),
    ...overrides,
  });
  return { stack, api };
}

describe('TenantApi', () => {
  it('fails when throttle.rateLimit is not positive', () => {
    expect(() => build({ throttle: { rateLimit: 0, burstLimit: 20 } })).toThrow(/throttle\.rateLimit: 0 must be > 0/);
  });

  it('fails when throttle.burstLimit is below 1', () => {
    expect(() => build({ throttle: { rateLimit: 1, burstLimit: 0 } })).toThrow(/throttle\.burstLimit: 0 must be >= 1/);
  });

  it('fails when quota.limit is below 1', () => {
    expect(() => build({ quota: { limit: 0, period: 'MONTH' } })).toThrow(/quota\.limit: 0 must be >= 1/);
  });

  it('fails with every problem in one error, naming the construct', () => {
    expect(() => build({ throttle: { rateLimit: -1, burstLimit: 0 }, quota: { limit: 0, period: 'MONTH' } })).toThrow(
      /^TenantApi ApiTest\/Api: throttle\.rateLimit: -1 must be > 0; throttle\.burstLimit: 0 must be >= 1; quota\.limit: 0 must be >= 1$/,
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
