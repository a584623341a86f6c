import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ManagedPolicyRole } from '../../../../lib/constructs/iam/managed-policy-role';
import { asArray, flatten, statementsOf, testApp } from '../../template-utils';

const TOPIC_ARN = 'arn:aws:sns:us-east-1:111122223333:topic';

function build() {
  const stack = new Stack(testApp(), 'RoleTest');
  const shared = new iam.ManagedPolicy(stack, 'Shared', {
    statements: [new iam.PolicyStatement({ actions: ['xray:PutTraceSegments'], resources: ['*'] })],
  });
  const role = new ManagedPolicyRole(stack, 'Role', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'test role',
    sharedPolicies: [shared],
  });
  // A managed policy may not be empty: every test starts from one explicit statement.
  role.addStatements(new iam.PolicyStatement({ sid: 'Baseline', actions: ['sns:Publish'], resources: [TOPIC_ARN] }));
  return { stack, role, shared };
}

const ownPolicyActions = (t: Template) =>
  Object.entries(t.findResources('AWS::IAM::ManagedPolicy'))
    .filter(([id]) => id.startsWith('RolePolicy'))
    .flatMap(([, p]) => statementsOf(p.Properties.PolicyDocument))
    .flatMap((s) => asArray(s.Action));

describe('ManagedPolicyRole', () => {
  it('puts grants made to it into its own customer-managed policy, attached to the role', () => {
    const { stack, role } = build();
    new sqs.Queue(stack, 'Queue').grantSendMessages(role);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::IAM::Policy', 0);
    expect(ownPolicyActions(t)).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    const [policy] = Object.entries(t.findResources('AWS::IAM::ManagedPolicy')).filter(([id]) =>
      id.startsWith('RolePolicy'),
    );
    const [roleId] = Object.keys(t.findResources('AWS::IAM::Role'));
    expect(policy![1].Properties.Roles.map(flatten)).toEqual([`<${roleId}>`]);
  });

  it('attaches the shared policies to the role', () => {
    const { stack, shared } = build();
    const sharedId = stack.getLogicalId(shared.node.defaultChild as iam.CfnManagedPolicy);
    const [role] = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Role'));
    expect(role!.Properties.ManagedPolicyArns.map(flatten)).toEqual([`<${sharedId}>`]);
  });

  it('hands L2 constructs a bound role they cannot add inline policies to', () => {
    const { stack, role } = build();
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => 1;'),
      role: role.boundRole,
      // Tracing would normally add X-Ray statements to the role's default (inline) policy.
      tracing: lambda.Tracing.ACTIVE,
    });
    new sqs.Queue(stack, 'Queue').grantConsumeMessages(fn);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::IAM::Policy', 0);
    expect(ownPolicyActions(t)).toEqual(['sns:Publish']);
  });

  it('adds explicit statements with addStatements', () => {
    const { stack, role } = build();
    role.addStatements(new iam.PolicyStatement({ sid: 'Extra', actions: ['sqs:SendMessage'], resources: ['*'] }));
    expect(ownPolicyActions(Template.fromStack(stack))).toEqual(['sns:Publish', 'sqs:SendMessage']);
  });
});
