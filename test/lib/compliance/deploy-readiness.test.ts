import { App, Aws, CfnParameter, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as bedrock from 'aws-cdk-lib/aws-bedrock';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { NagRuleCompliance } from 'cdk-nag';
import { API_LIMITS } from '../../../lambda/shared/api-schema';
import { QUOTA_IDS } from '../../../lib/capacity/quotas';
import {
  CAPACITY_COUNTED_TYPES,
  KeyPolicyFits,
  markTenantStack,
  SwitchboardDeployChecks,
} from '../../../lib/compliance/deploy-readiness';
import { runPack } from '../../../lib/compliance/report';
import { rulesBlockingBody } from '../../../lib/compliance/waf-body';
import { PLAN_GUARDRAILS } from '../../../lib/config/guardrail-policy';
import { SwitchboardGuardrail } from '../../../lib/constructs/guardrail/switchboard-guardrail';
import {
  cloudWatchAlarmsStatement,
  keyAdministrationStatement,
  serviceIntegrationStatements,
} from '../../../lib/constructs/key-policies';
import { AlarmTopic } from '../../../lib/constructs/monitoring/alarm-topic';
import { EdgeProtection } from '../../../lib/constructs/platform/edge-protection';
import { deploymentUniqueSuffix } from '../../../lib/constructs/unique-names';
import { buildSwitchboard, PLATFORM_STACK_NAME } from '../../../lib/switchboard';
import { REPO_TENANTS, repoContext, repoPlatformConfig, synthSwitchboard } from '../../support/synth';
import { onlyResource, props, type TemplateLike } from '../template-utils';

/** Findings of the deploy-readiness pack on a fixture stack, as "rule resource" lines. */
function findings(build: (stack: Stack) => void, tenant = false): string[] {
  const stack = new Stack(new App(), 'Fixture', { env: { region: 'us-east-1', account: '111122223333' } });
  if (tenant) markTenantStack(stack, 'demo');
  build(stack);
  return runPack(new SwitchboardDeployChecks(), stack).findings.flatMap((f) =>
    f.resources.map((r) => `${f.ruleId} ${r.replace(/^Fixture\//, '')}`),
  );
}

/** The key policy a key had before the fix: administration for the account root, nothing for services. */
const adminOnly = (_s?: Stack) =>
  new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        principals: [new iam.AccountRootPrincipal()],
        actions: ['kms:Describe*', 'kms:Put*', 'kms:ScheduleKeyDeletion'],
        resources: ['*'],
      }),
    ],
  });

describe('SwitchboardDeploy-ServiceCanUseKey', () => {
  it('catches a table whose key gives the account administration only (CloudFormation cannot create it)', () => {
    const out = findings((s) => {
      const key = new kms.Key(s, 'Key', { policy: adminOnly(s) });
      new dynamodb.Table(s, 'Table', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: key,
      });
    });
    expect(out).toContain('SwitchboardDeploy-ServiceCanUseKey Table/Resource');
  });

  it('catches a backup vault whose key does not let AWS Backup use it, accepts one that does', () => {
    const vault = (policy: (s: Stack) => iam.PolicyDocument) =>
      findings((s) => {
        const key = new kms.Key(s, 'Key', { policy: policy(s) });
        new backup.BackupVault(s, 'Vault', { encryptionKey: key, backupVaultName: 'vault' });
      }).filter((f) => f.includes('ServiceCanUseKey'));
    expect(vault(adminOnly)).toEqual(['SwitchboardDeploy-ServiceCanUseKey Vault/Resource']);
    expect(
      vault(
        (s) =>
          new iam.PolicyDocument({
            statements: [keyAdministrationStatement(s), ...serviceIntegrationStatements(s, 'backup')],
          }),
      ),
    ).toEqual([]);
  });

  it('catches a key that lets only one role use it through DynamoDB (CloudFormation is not that role)', () => {
    const out = findings((s) => {
      const key = new kms.Key(s, 'Key', { policy: adminOnly(s) });
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ArnPrincipal('arn:aws:iam::111122223333:role/app')],
          actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*', 'kms:DescribeKey', 'kms:CreateGrant'],
          resources: ['*'],
          conditions: { StringEquals: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' } },
        }),
      );
      new dynamodb.Table(s, 'Table', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: key,
      });
    });
    expect(out).toContain('SwitchboardDeploy-ServiceCanUseKey Table/Resource');
  });

  it('catches a guardrail whose key does not let Bedrock use it for the account, accepts one that does', () => {
    const guardrail = (policy: (s: Stack) => iam.PolicyDocument) =>
      findings((s) => {
        const key = new kms.Key(s, 'Key', { policy: policy(s) });
        new SwitchboardGuardrail(s, 'Guardrail', {
          name: 'sb-test',
          owner: 'test',
          policy: PLAN_GUARDRAILS.basic,
          key,
        });
      }).filter((f) => f.includes('ServiceCanUseKey'));
    expect(guardrail(adminOnly)).toEqual(['SwitchboardDeploy-ServiceCanUseKey Guardrail/Resource']);
    expect(
      guardrail(
        (s) =>
          new iam.PolicyDocument({
            statements: [keyAdministrationStatement(s), ...serviceIntegrationStatements(s, 'bedrock')],
          }),
      ),
    ).toEqual([]);
  });

  it('catches a log group whose key does not let CloudWatch Logs use it', () => {
    const out = findings((s) => {
      const key = new kms.Key(s, 'Key', { policy: adminOnly(s) });
      new logs.LogGroup(s, 'Logs', { encryptionKey: key });
    });
    expect(out).toContain('SwitchboardDeploy-ServiceCanUseKey Logs/Resource');
  });
});

describe('SwitchboardDeploy-AlarmTopicReachable', () => {
  const alarm = (s: Stack, topic: sns.ITopic) =>
    new cloudwatch.Alarm(s, 'Alarm', {
      metric: new cloudwatch.Metric({ namespace: 'N', metricName: 'M' }),
      threshold: 1,
      evaluationPeriods: 1,
    }).addAlarmAction(new cwActions.SnsAction(topic));

  it('catches the topic an alarm had before the fix: a TLS-only policy (CloudWatch may not publish) and no subscriber', () => {
    const out = findings((s) => {
      const topic = new sns.Topic(s, 'Topic', { enforceSSL: true });
      topic.addToResourcePolicy(
        new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
      alarm(s, topic);
    });
    expect(out).toEqual(['SwitchboardDeploy-AlarmTopicReachable Alarm/Resource']);
  });

  it('catches a topic CloudWatch may publish to that nobody is subscribed to', () => {
    const out = findings((s) => {
      const topic = new sns.Topic(s, 'Topic');
      alarm(s, topic);
    });
    expect(out).toEqual(['SwitchboardDeploy-AlarmTopicReachable Alarm/Resource']);
  });

  it('catches an encrypted topic whose key does not let CloudWatch use it', () => {
    const out = findings((s) => {
      const key = new kms.Key(s, 'Key', { policy: adminOnly(s) });
      const topic = new sns.Topic(s, 'Topic', { masterKey: key });
      topic.addSubscription(new subs.EmailSubscription('ops@example.com'));
      alarm(s, topic);
    }).filter((f) => f.includes('AlarmTopic'));
    expect(out).toEqual(['SwitchboardDeploy-AlarmTopicReachable Alarm/Resource']);
  });

  it('accepts an AlarmTopic: CloudWatch may publish, may use the key, and somebody is subscribed', () => {
    const out = findings((s) => {
      // The key's owner lets CloudWatch alarms use it (as TenantData and PlatformKey do); the topic does the rest.
      const key = new kms.Key(s, 'Key', {
        policy: new iam.PolicyDocument({ statements: [keyAdministrationStatement(s), cloudWatchAlarmsStatement(s)] }),
      });
      alarm(s, new AlarmTopic(s, 'Ops', { displayName: 'ops', key, emails: ['ops@example.com'] }).topic);
    });
    expect(out).toEqual([]);
  });

  it.each(['weak', 'strong'])(
    'follows an alarm action into another stack through a %s cross-stack reference (a tenant alarm notifying the platform topic)',
    (strength) => {
      const app = new App({ context: { '@aws-cdk/core:defaultCrossStackReferences': strength } });
      const env = { region: 'us-east-1', account: '111122223333' };
      const platform = new Stack(app, 'P', { env });
      const topic = new sns.Topic(platform, 'Topic');
      const tenant = new Stack(app, 'T', { env });
      alarm(tenant, topic);
      // Synthesis turns the reference into Fn::GetStackOutput (weak) or an export and Fn::ImportValue (strong).
      app.synth();
      const reference = JSON.stringify(
        tenant.resolve((tenant.node.findChild('Alarm').node.defaultChild as cloudwatch.CfnAlarm).alarmActions),
      );
      expect(reference).toContain(strength === 'weak' ? 'Fn::GetStackOutput' : 'Fn::ImportValue');
      const out = runPack(new SwitchboardDeployChecks(), tenant).findings.map((f) => f.ruleId);
      expect(out).toEqual(['SwitchboardDeploy-AlarmTopicReachable']);
      // Subscribed: reachable.
      topic.addSubscription(new subs.EmailSubscription('ops@example.com'));
      expect(runPack(new SwitchboardDeployChecks(), tenant).findings).toEqual([]);
    },
  );
});

describe('SwitchboardDeploy-RetainedWithoutFixedName', () => {
  it('catches retained resources and state machines with fixed names, accepts per-deployment and generated names', () => {
    const out = findings((s) => {
      new logs.LogGroup(s, 'Fixed', { logGroupName: 'aws-waf-logs-switchboard', removalPolicy: RemovalPolicy.RETAIN });
      new logs.LogGroup(s, 'Unique', {
        logGroupName: `aws-waf-logs-switchboard-${deploymentUniqueSuffix()}`,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      new logs.LogGroup(s, 'Generated', { removalPolicy: RemovalPolicy.RETAIN });
      new logs.LogGroup(s, 'Destroyed', { logGroupName: 'gone', removalPolicy: RemovalPolicy.DESTROY });
      // Names that look per-deployment but are not: a parameter, the stack's name, a RetainExceptOnCreate group.
      const param = new CfnParameter(s, 'Name', { default: 'x' });
      new logs.LogGroup(s, 'FromParameter', { logGroupName: param.valueAsString, removalPolicy: RemovalPolicy.RETAIN });
      new logs.LogGroup(s, 'FromStackName', {
        logGroupName: `logs-${Aws.STACK_NAME}`,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      new logs.LogGroup(s, 'KeptAfterCreate', {
        logGroupName: 'kept',
        removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      });
      new backup.BackupVault(s, 'Vault', { backupVaultName: 'switchboard', removalPolicy: RemovalPolicy.RETAIN });
      new (require('aws-cdk-lib/aws-stepfunctions') as typeof import('aws-cdk-lib/aws-stepfunctions')).CfnStateMachine(
        s,
        'Machine',
        {
          stateMachineName: 'switchboard-demo-review',
          roleArn: 'arn:aws:iam::111122223333:role/x',
          definitionString: '{}',
        },
      );
    });
    expect(out.filter((f) => f.includes('RetainedWithoutFixedName')).sort()).toEqual([
      'SwitchboardDeploy-RetainedWithoutFixedName Fixed/Resource',
      'SwitchboardDeploy-RetainedWithoutFixedName FromParameter/Resource',
      'SwitchboardDeploy-RetainedWithoutFixedName FromStackName/Resource',
      'SwitchboardDeploy-RetainedWithoutFixedName KeptAfterCreate/Resource',
      'SwitchboardDeploy-RetainedWithoutFixedName Machine',
      'SwitchboardDeploy-RetainedWithoutFixedName Vault/Resource',
    ]);
  });
});

describe('SwitchboardDeploy-PerTenantResourceWithinQuota', () => {
  it('catches a client certificate added to a tenant stack of the app as cdk synth builds it', () => {
    const app = new App({ context: repoContext() });
    const built = buildSwitchboard(app, {
      platform: repoPlatformConfig(),
      tenantsDir: REPO_TENANTS,
      only: 'acme',
      env: { region: 'us-east-1' },
      compliance: false,
    });
    const tenant = built.tenants.get('acme')!;
    new apigw.CfnClientCertificate(tenant, 'Cert', {});
    app.synth();
    expect(runPack(new SwitchboardDeployChecks(), tenant).findings.map((f) => f.ruleId)).toEqual([
      'SwitchboardDeploy-PerTenantResourceWithinQuota',
    ]);
    expect(runPack(new SwitchboardDeployChecks(), built.platform).findings).toEqual([]);
  });

  it('catches a client certificate in a tenant stack (60 per region), not in the platform stack', () => {
    const cert = (s: Stack) => new apigw.CfnClientCertificate(s, 'Cert', {});
    expect(findings(cert, true)).toEqual(['SwitchboardDeploy-PerTenantResourceWithinQuota Cert']);
    expect(findings(cert, false)).toEqual([]);
  });

  it("accepts a tenant's own guardrail (100 per region): the capacity model counts guardrails and fails synth before the quota", () => {
    const guardrail = (s: Stack) =>
      new bedrock.CfnGuardrail(s, 'Guardrail', { name: 'g', blockedInputMessaging: 'x', blockedOutputsMessaging: 'y' });
    expect(findings(guardrail, true)).toEqual([]);
    expect(CAPACITY_COUNTED_TYPES['AWS::Bedrock::Guardrail']).toBe(QUOTA_IDS.guardrails);
  });
});

describe('SwitchboardDeploy-WafAllowsLargestPrompt', () => {
  it('catches the web ACL as it was: the common rule set blocking bodies over 8 KB and code in bodies', () => {
    const out = findings((s) => {
      new wafv2.CfnWebACL(s, 'Acl', {
        scope: 'REGIONAL',
        defaultAction: { allow: {} },
        visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'a', sampledRequestsEnabled: true },
        rules: [
          {
            name: 'AWSManagedRulesCommonRuleSet',
            priority: 1,
            overrideAction: { none: {} },
            statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesCommonRuleSet' } },
            visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'b', sampledRequestsEnabled: true },
          },
        ],
      });
    });
    expect(out).toEqual(['SwitchboardDeploy-WafAllowsLargestPrompt Acl']);
  });

  it('accepts the platform web ACL (EdgeProtection)', () => {
    const out = findings((s) => {
      const key = new kms.Key(s, 'Key', {
        policy: new iam.PolicyDocument({ statements: [keyAdministrationStatement(s)] }),
      });
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('logs.us-east-1.amazonaws.com')],
          actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
      new EdgeProtection(s, 'Edge', { key });
    });
    expect(out).toEqual([]);
  });

  it('evaluates own rules: a body size constraint below the largest prompt, and a body match, both blocking', () => {
    const rule = (name: string, statement: unknown) => ({ Name: name, Action: { Block: {} }, Statement: statement });
    const rules = [
      rule('SmallBodies', {
        SizeConstraintStatement: { FieldToMatch: { Body: {} }, ComparisonOperator: 'GT', Size: 65_536 },
      }),
      rule('NoScript', { ByteMatchStatement: { FieldToMatch: { Body: {} }, SearchString: '<script' } }),
      rule('BigBodiesOk', {
        SizeConstraintStatement: { FieldToMatch: { Body: {} }, ComparisonOperator: 'GT', Size: 10_000_000 },
      }),
      rule('Header', { ByteMatchStatement: { FieldToMatch: { SingleHeader: { Name: 'x' } }, SearchString: 'y' } }),
    ];
    expect(rulesBlockingBody(rules, API_LIMITS.maxBodyBytes)).toEqual([
      'SmallBodies: blocks bodies GT 65536 bytes',
      'NoScript: matches body text (ByteMatchStatement)',
    ]);
    const small = { SizeConstraintStatement: { FieldToMatch: { Body: {} }, ComparisonOperator: 'LE', Size: 8192 } };
    expect(
      rulesBlockingBody(
        [
          rule('NotSmall', { NotStatement: { Statement: small } }),
          {
            Name: 'Puzzle',
            Action: { Captcha: {} },
            Statement: { ByteMatchStatement: { FieldToMatch: { Body: {} } } },
          },
          rule('Group', { RuleGroupReferenceStatement: { Arn: 'arn:aws:wafv2:...' } }),
          rule('RateByBody', { RateBasedStatement: { Limit: 100, AggregateKeyType: 'IP', ScopeDownStatement: small } }),
        ],
        API_LIMITS.maxBodyBytes,
      ),
    ).toEqual([
      'NotSmall: negates a condition on the body',
      'Puzzle: matches body text (ByteMatchStatement)',
      'Group: a rule group this check cannot read',
      'RateByBody: rate-limits requests by their body',
    ]);
  });
});

describe('the synthesized web ACL', () => {
  it('blocks no 100,000-character prompt full of code: no rule of its configuration matches it', () => {
    const template = synthSwitchboard({ only: 'acme', compliance: false }).template(
      PLATFORM_STACK_NAME,
    ) as unknown as TemplateLike;
    const [, acl] = onlyResource(template, 'AWS::WAFv2::WebACL');
    const jndi = ['$', '{jndi:ldap://x}'].join('');
    const code = `<script>alert(1)</script> ../../etc/passwd http://169.254.169.254/latest ${jndi} `;
    const prompt = code.repeat(Math.ceil(100_000 / code.length)).slice(0, 100_000);
    const bytes = Buffer.byteLength(JSON.stringify({ prompt }));
    expect(bytes).toBeGreaterThan(100_000);
    expect(rulesBlockingBody(props(acl).Rules, bytes)).toEqual([]);
    // The same configuration without the overrides would block it.
    const stripped = JSON.parse(
      JSON.stringify(props(acl).Rules).replace(/"RuleActionOverrides":\[[^\]]*\]/g, '"RuleActionOverrides":[]'),
    );
    expect(rulesBlockingBody(stripped, bytes).length).toBeGreaterThan(0);
  });
});

describe('SwitchboardDeploy-KeyPolicyFits', () => {
  it('catches a key policy over 32 KB', () => {
    const out = findings((s) => {
      const key = new kms.Key(s, 'Key', {
        policy: new iam.PolicyDocument({ statements: [keyAdministrationStatement(s)] }),
      });
      for (let i = 0; i < 200; i++) {
        key.addToResourcePolicy(
          new iam.PolicyStatement({
            sid: `Role${i}`,
            principals: [new iam.ArnPrincipal(`arn:aws:iam::111122223333:role/tenant-role-with-a-long-name-${i}`)],
            actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
            resources: ['*'],
          }),
        );
      }
    });
    expect(out.filter((f) => f.includes('KeyPolicyFits'))).toEqual(['SwitchboardDeploy-KeyPolicyFits Key/Resource']);
  });

  it('measures every ARN at its longest, and the sample tenant keys fit', () => {
    const synth = synthSwitchboard({ compliance: false });
    for (const name of ['Switchboard-Tenant-acme', 'Switchboard-Tenant-globex']) {
      const tenant = synth.built.tenants.get(name.replace('Switchboard-Tenant-', ''))!;
      const key = tenant.node.findAll().find((c): c is kms.CfnKey => c instanceof kms.CfnKey)!;
      expect(runPack(new SwitchboardDeployChecks(), tenant).findings).toEqual([]);
      expect(KeyPolicyFits(key)).toBe(NagRuleCompliance.COMPLIANT);
    }
  });
});
