import type { TemplateLike } from '../../../lib/compliance/template-json';
import { TemplateResolver } from '../../../lib/compliance/template-resolver';

const producer: TemplateLike = {
  Resources: {
    Role1: { Type: 'AWS::IAM::Role' },
    Table1: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'fixed' } },
    Topic1: { Type: 'AWS::SNS::Topic' },
  },
  Outputs: {
    RoleArnOut: { Value: { 'Fn::GetAtt': ['Role1', 'Arn'] } },
    TableExport: { Value: { 'Fn::GetAtt': ['Table1', 'Arn'] }, Export: { Name: 'shared-table' } },
  },
};
const consumer: TemplateLike = {
  Resources: {
    Machine: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        StateMachineName: {
          'Fn::Join': ['', ['sm-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }]],
        },
      },
    },
  },
};
const resolver = new TemplateResolver([
  { stackName: 'P', template: producer, region: 'eu-west-1' },
  { stackName: 'C', template: consumer, region: 'eu-west-1', account: '123456789012' },
]);

describe('template resolver', () => {
  it('reads a weak cross-stack reference and an import as what the producer names', () => {
    expect(
      resolver.resolve('C', {
        'Fn::GetStackOutput': { StackName: 'P', OutputName: 'RoleArnOut', Region: 'eu-west-1' },
      }),
    ).toBe('arn:<AWS::Partition>:iam::<AWS::AccountId>:role/<P/Role1>');
    expect(resolver.resolve('C', { 'Fn::ImportValue': 'shared-table' })).toBe(
      'arn:<AWS::Partition>:dynamodb:eu-west-1:<AWS::AccountId>:table/fixed',
    );
    expect(resolver.resolve('C', { 'Fn::ImportValue': 'nobody-exports-this' })).toBe(
      '<Fn::ImportValue:"nobody-exports-this">',
    );
  });

  it("reads Ref, GetAtt and a hand-built ARN of the same resource alike, in the stack's account and region", () => {
    expect(resolver.resolve('P', { Ref: 'Topic1' })).toBe(
      resolver.resolve('P', { 'Fn::GetAtt': ['Topic1', 'TopicArn'] }),
    );
    const machine = resolver.arnOf('C', 'Machine');
    const handBuilt = resolver.resolve('C', {
      'Fn::Join': [
        '',
        [
          'arn:aws:states:eu-west-1:',
          { Ref: 'AWS::AccountId' },
          ':stateMachine:sm-',
          { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] },
        ],
      ],
    });
    expect(handBuilt).toBe(machine);
    expect(machine.startsWith('arn:<AWS::Partition>:states:eu-west-1:123456789012:stateMachine:sm-')).toBe(true);
    // The stack id differs per stack: the same expression in another stack names another machine.
    expect(resolver.text('P', { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] })).not.toBe(
      resolver.text('C', { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }),
    );
  });

  it('resolves Fn::Sub with pseudo parameters, attributes and variables, and drops AWS::NoValue', () => {
    expect(
      resolver.resolve('P', {
        'Fn::Sub': [`arn:\${AWS::Partition}:x:\${AWS::Region}:\${AWS::AccountId}:\${Role1.Arn}/\${v}`, { v: 'V' }],
      }),
    ).toBe(
      'arn:<AWS::Partition>:x:eu-west-1:<AWS::AccountId>:arn:<AWS::Partition>:iam::<AWS::AccountId>:role/<P/Role1>/V',
    );
    expect(resolver.resolve('P', ['a', { Ref: 'AWS::NoValue' }])).toEqual(['a']);
  });

  it('refuses a circular reference between outputs', () => {
    const loop = new TemplateResolver([
      {
        stackName: 'L',
        template: {
          Resources: {},
          Outputs: { A: { Value: { 'Fn::GetStackOutput': { StackName: 'L', OutputName: 'A' } } } },
        },
      },
    ]);
    expect(() => loop.resolve('L', { 'Fn::GetStackOutput': { StackName: 'L', OutputName: 'A' } })).toThrow('circular');
  });
});
