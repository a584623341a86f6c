import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { reviewerAccess } from '../../../../lambda/review/http/reviewer-claims';
import { PACKS } from '../../../../lib/compliance/packs';
import { runPack } from '../../../../lib/compliance/report';
import { ReviewerDirectory, type ReviewerDirectoryProps } from '../../../../lib/constructs/review/reviewer-directory';
import { testApp } from '../../template-utils';

function build(props: ReviewerDirectoryProps) {
  const stack = new Stack(testApp(), 'Platform', { env: { account: '123456789012', region: 'eu-west-1' } });
  const directory = new ReviewerDirectory(stack, 'Reviewers', props);
  return { stack, directory, template: Template.fromStack(stack) };
}

describe('ReviewerDirectory', () => {
  const { stack, directory, template } = build({
    tenantIds: ['acme', 'globex', 'initech'],
    consoleUrl: 'https://review.example.com/console/',
    domainPrefix: 'switchboard-reviewers-test',
  });

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

  it('gives the console a public client: authorization code only, no secret, back to the console URL', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid', 'email'],
      CallbackURLs: ['https://review.example.com/console/'],
      LogoutURLs: ['https://review.example.com/console/'],
      PreventUserExistenceErrors: 'ENABLED',
      SupportedIdentityProviders: ['COGNITO'],
      ExplicitAuthFlows: Match.arrayWith(['ALLOW_USER_SRP_AUTH']),
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

  it('deploys with one new: no groups and no console client', () => {
    const bare = build({}).template;
    bare.resourceCountIs('AWS::Cognito::UserPool', 1);
    bare.resourceCountIs('AWS::Cognito::UserPoolGroup', 0);
    bare.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
    bare.resourceCountIs('AWS::Cognito::UserPoolDomain', 0);
  });

  it('fails when tenant ids, the console URL or the domain prefix are not usable, naming each', () => {
    expect(() =>
      build({
        tenantIds: ['acme', 'Acme!', 'acme'],
        consoleUrl: 'http://review.example.com/#x',
        domainPrefix: 'my-aws',
      }),
    ).toThrow(
      /tenantIds: "Acme!" is not a tenant id[\s\S]*tenantIds: "acme" is listed twice[\s\S]*consoleUrl: "http:\/\/review.example.com\/#x" must be an https URL[\s\S]*domainPrefix: "my-aws" may not contain/,
    );
    expect(() => build({ consoleUrl: 'https://review.example.com/' })).toThrow(
      /domainPrefix: required with consoleUrl/,
    );
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
