import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { PACKS } from '../../../../lib/compliance/packs';
import { runPack } from '../../../../lib/compliance/report';
import { ManagedPolicyRole } from '../../../../lib/constructs/iam/managed-policy-role';
import { logsServiceStatement } from '../../../../lib/constructs/key-policies';
import { PoolAuthorizer } from '../../../../lib/constructs/pool/pool-authorizer';
import { PoolTenantAccess } from '../../../../lib/constructs/pool/tenant-access-role';
import { testApp } from '../../template-utils';

function build(ttl?: Duration) {
  const stack = new Stack(testApp(), 'PoolCell', { env: { account: '123456789012', region: 'eu-west-1' } });
  // The cell's key as the pool stack will make it: its log groups are encrypted with it.
  const key = new kms.Key(stack, 'PoolKey', { enableKeyRotation: true });
  key.addToResourcePolicy(logsServiceStatement(stack));
  const registry = new dynamodb.Table(stack, 'Registry', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
  });
  const auth = new PoolAuthorizer(stack, 'Auth', {
    cellId: 'pool-1',
    registryTable: registry,
    key,
    sharedPolicies: [],
    resultsCacheTtl: ttl,
  });
  const api = new apigw.RestApi(stack, 'Api', { cloudWatchRole: false });
  api.root.addMethod('GET', new apigw.MockIntegration(), { authorizer: auth.authorizer });
  auth.addGatewayResponses(api);
  const fn = new ManagedPolicyRole(stack, 'PooledFunction', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'pooled inference function',
  });
  const access = new PoolTenantAccess(stack, 'TenantAccess', {
    table: registry,
    key,
    pooledFunctionRole: fn.role,
    cellId: 'pool-1',
  });
  access.grantAssume(fn.grantPrincipal);
  return { stack, auth, access, template: Template.fromStack(stack) };
}

describe('PoolAuthorizer', () => {
  const { auth, access, template } = build();

  it('is a REQUEST authorizer on the x-api-key header, cached 60 s by default', () => {
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.x-api-key',
      AuthorizerResultTtlInSeconds: 60,
    });
  });

  it('answers 401 unauthorized, 403 forbidden and 500 in the error envelope', () => {
    for (const [type, status, code] of [
      ['UNAUTHORIZED', '401', 'unauthorized'],
      ['ACCESS_DENIED', '403', 'forbidden'],
      ['AUTHORIZER_FAILURE', '500', 'internal_error'],
      ['AUTHORIZER_CONFIGURATION_ERROR', '500', 'internal_error'],
    ]) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: status,
        ResponseTemplates: {
          'application/json': Match.stringLikeRegexp(
            `^\\{"error":\\{"code":"${code}","message":"[^"]+","requestId":"\\$context.requestId"\\}\\}$`,
          ),
        },
      });
    }
  });

  it('reads only the registry key and tenant items (GetItem on KEY#… and TENANT#…), with the registry table in its environment', () => {
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'ReadApiKeyAndTenantItems',
            Action: 'dynamodb:GetItem',
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['KEY#*', 'TENANT#*'] } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ REGISTRY_TABLE_NAME: Match.anyValue() }) },
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
    });
  });

  it('fails when resultsCacheTtl is over API Gateway’s 3600 s', () => {
    expect(() => build(Duration.hours(2))).toThrow(/resultsCacheTtl: 7200 s is more than API Gateway's 3600 s/);
  });

  it.each(PACKS.map((p) => [p.name, p] as const))('has no unacknowledged %s finding', (_name, pack) => {
    for (const scope of [auth, access]) {
      const result = runPack(pack.create(), scope);
      expect(result.findings).toEqual([]);
      expect(result.rulesChecked.length).toBeGreaterThan(0);
      // Only the function's acknowledgements (no VPC, unreserved concurrency) and, on its role's policy, the registry
      // key named by key/* (the key is in the control plane stack): nothing else on the roles or the authorizer.
      for (const a of result.acknowledged) {
        if (a.acknowledgedOn === 'PoolCell/Auth/Function/Function') continue;
        expect([a.acknowledgedOn, a.ruleId]).toEqual([
          'PoolCell/Auth/Function/Role/Policy',
          'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:eu-west-1:123456789012:key/*]',
        ]);
      }
    }
  });
});
