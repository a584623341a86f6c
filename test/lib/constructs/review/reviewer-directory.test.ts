import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { reviewerAccess } from '../../../../lambda/review/http/reviewer-claims';
import { PACKS } from '../../../../lib/compliance/packs';
import { runPack } from '../../../../lib/compliance/report';
import { ReviewerDirectory, type ReviewerDirectoryProps } from '../../../../lib/constructs/review/reviewer-directory';
import { testApp } from '../../template-utils';

const ENV = { account: '123456789012', region: 'eu-west-1' };

/** The directory in a platform stack and, with `consoleUrl`, a tenant stack whose console gets a client. */
function build(props: ReviewerDirectoryProps, consoleUrl?: string) {
  const app = testApp();
  const stack = new Stack(app, 'Platform', { env: ENV });
  const directory = new ReviewerDirectory(stack, 'Reviewers', props);
  const tenant = new Stack(app, 'Tenant', { env: ENV });
  if (consoleUrl) directory.addConsoleClient(tenant, 'ConsoleClient', consoleUrl);
  return { stack, directory, template: Template.fromStack(stack), tenantTemplate: Template.fromStack(tenant) };
}

describe('ReviewerDirectory', () => {
  const { stack, directory, template, tenantTemplate } = build(
    { tenantIds: ['acme', 'globex', 'initech'], domainPrefix: 'switchboard-reviewers-test' },
    'https://review.example.com/console/',
  );

  it('is a user pool nobody signs up to, with MFA required (authenticator app) and a strong password policy', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: {
        PasswordPolicy: Match.objectLike({
          MinimumLength: 14,
          RequireUppercase: true,
          RequireLowercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        }),
      },
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      DeletionProtection: 'ACTIVE',
    });
    template.hasResource('AWS::Cognito::UserPool', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('has one group per tenant, named as the review API checks it', () => {
    const groups = template.findResources('AWS::Cognito::UserPoolGroup');
    expect(Object.keys(groups)).toHaveLength(3);
    for (const t of ['acme', 'globex', 'initech']) {
      const id = stack.getLogicalId(directory.groups.get(t)!.node.defaultChild as CfnElement);
      const name = groups[id]?.Properties?.GroupName;
      expect(name).toBe(`tenant-${t}`);
      // A member of the group the construct made may review that tenant, and only that one.
      const claims = { sub: 'u-1', 'cognito:groups': name };
      expect(reviewerAccess(claims, t).allowed).toBe(true);
      expect(reviewerAccess(claims, t === 'acme' ? 'globex' : 'acme').allowed).toBe(false);
    }
  });

  it("gives a console (in the stack that serves it) a public client: authorization code only, no secret, back to the console's URL", () => {
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
    tenantTemplate.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid', 'email'],
      CallbackURLs: ['https://review.example.com/console/'],
      LogoutURLs: ['https://review.example.com/console/'],
      PreventUserExistenceErrors: 'ENABLED',
      SupportedIdentityProviders: ['COGNITO'],
      ExplicitAuthFlows: Match.arrayWith(['ALLOW_USER_SRP_AUTH']),
      UserPoolId: { 'Fn::ImportValue': Match.stringLikeRegexp('ReviewersUserPool') },
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'switchboard-reviewers-test' });
    expect(directory.signInUrl).toBeDefined();
  });

  it('lets the onboarding function create and delete reviewer groups, on this pool only', () => {
    const own = new Stack(testApp(), 'Grants', { env: { account: '123456789012', region: 'eu-west-1' } });
    const fn = new iam.Role(own, 'Onboarding', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    new ReviewerDirectory(own, 'Reviewers').grantManageGroups(fn);
    Template.fromStack(own).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['cognito-idp:CreateGroup', 'cognito-idp:DeleteGroup', 'cognito-idp:GetGroup'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReviewersUserPool'), 'Arn'] },
          },
        ],
      },
    });
  });

  it('deploys with one new: no groups, no sign-in domain, no client', () => {
    const bare = build({}).template;
    bare.resourceCountIs('AWS::Cognito::UserPool', 1);
    bare.resourceCountIs('AWS::Cognito::UserPoolGroup', 0);
    bare.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
    bare.resourceCountIs('AWS::Cognito::UserPoolDomain', 0);
  });

  it('fails when tenant ids or the domain prefix are not usable, naming each', () => {
    expect(() => build({ tenantIds: ['acme', 'Acme!', 'acme'], domainPrefix: 'my-aws' })).toThrow(
      /tenantIds: "Acme!" is not a tenant id[\s\S]*tenantIds: "acme" is listed twice[\s\S]*domainPrefix: "my-aws" may not contain/,
    );
    expect(() => build({ domainPrefix: 'Has_Upper' })).toThrow(/domainPrefix: "Has_Upper" must be 1-63 lowercase/);
  });

  it('fails when a console URL is not an https URL without query or fragment', () => {
    for (const url of ['http://r.example.com/', 'https://r.example.com/#x', 'https://r.example.com/?a=1', 'nope']) {
      expect(() => build({}, url)).toThrow(
        /Invalid console client ConsoleClient: consoleUrl ".*" must be an https URL/,
      );
    }
  });

  it.each(PACKS.map((p) => [p.name, p] as const))('has no %s finding', (_name, pack) => {
    const result = runPack(pack.create(), directory);
    expect(result.findings).toEqual([]);
    expect(result.acknowledged).toEqual([]);
  });

  it('is checked by the AwsSolutions Cognito rules (COG1 password, COG2 MFA, COG8 Plus feature plan)', () => {
    const result = runPack(PACKS.find((p) => p.name === 'AwsSolutions')!.create(), directory);
    expect(result.rulesChecked).toEqual(
      expect.arrayContaining(['AwsSolutions-COG1', 'AwsSolutions-COG2', 'AwsSolutions-COG8']),
    );
  });
});
