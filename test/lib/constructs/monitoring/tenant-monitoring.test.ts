import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { METRIC_NAMESPACE, METRICS } from '../../../../lambda/shared/metrics';
import { PLAN_DEFAULTS } from '../../../../lib/config/plan-defaults';
import { toRuntimeConfig } from '../../../../lib/config/runtime-config';
import { TenantMonitoring } from '../../../../lib/constructs/monitoring/tenant-monitoring';
import { tenantStackName } from '../../../../lib/stacks/tenant-stack';
import { PLATFORM_STACK_NAME } from '../../../../lib/switchboard';
import { type Synthesized, synthSwitchboard } from '../../../support/synth';
import {
  asArray,
  flatten,
  onlyResource,
  outputRefOf,
  props,
  resourcesOfType,
  statementsOf,
  type TemplateLike,
  testApp,
} from '../../template-utils';
import { alarmMetrics, dashboardBody, graphedMetrics, type WidgetJson } from './dashboard-metrics';

const TENANTS = ['acme', 'globex', 'initech'] as const;
/** Tenants on the full alarm set with a dashboard (standard and premium plans); initech (basic) is essential. */
const FULL = ['acme', 'globex'] as const;
let synth: Synthesized;
const raw: Record<string, TemplateLike> = {};

beforeAll(() => {
  synth = synthSwitchboard({ compliance: false });
  for (const id of TENANTS) raw[id] = synth.template(tenantStackName(id)) as unknown as TemplateLike;
  raw.platform = synth.template(PLATFORM_STACK_NAME) as unknown as TemplateLike;
});

const configOf = (id: string) => synth.built.configs.find((t) => t.id === id)!;
const alarmsOf = (t: TemplateLike) => resourcesOfType(t, 'AWS::CloudWatch::Alarm');
const compositesOf = (t: TemplateLike) => resourcesOfType(t, 'AWS::CloudWatch::CompositeAlarm');
/** The tenant ops topic (tenants with ops contacts of their own), or `undefined`. */
const opsTopicIdOrNone = (t: TemplateLike) => {
  const ids = resourcesOfType(t, 'AWS::SNS::Topic')
    .map(([id]) => id)
    .filter((id) => id.startsWith('MonitoringOpsTopic'));
  expect(ids.length).toBeLessThanOrEqual(1);
  return ids[0];
};
const opsTopicId = (t: TemplateLike) => {
  const id = opsTopicIdOrNone(t);
  expect(id).toBeDefined();
  return id!;
};
/** How a tenant stack refers to the platform ops topic (a weak cross-stack reference). */
const platformTopicImport = () => {
  const [topicId] = onlyResource(raw.platform!, 'AWS::SNS::Topic');
  const ref = outputRefOf(raw.platform!, PLATFORM_STACK_NAME, topicId);
  expect(ref).toBeDefined();
  return ref!;
};

describe('TenantMonitoring in the Switchboard app', () => {
  it.each(TENANTS)(
    'sends every alarm, the composite included, to the platform topic and the tenant topic if any, on ALARM and OK (%s)',
    (id) => {
      const t = raw[id]!;
      const all = [...alarmsOf(t), ...compositesOf(t)];
      expect(all.length).toBeGreaterThanOrEqual(configOf(id).monitoring.alarms === 'full' ? 17 : 6);
      // globex names ops contacts of its own; acme and initech take the platform's.
      const own = opsTopicIdOrNone(t);
      expect(own !== undefined).toBe(configOf(id).opsEmails.length > 0);
      const expected = [...(own ? [`<${own}>`] : []), platformTopicImport()].sort();
      for (const [lid, a] of all) {
        expect({
          lid,
          enabled: props(a).ActionsEnabled,
          alarm: asArray(props(a).AlarmActions as unknown[])
            .map(flatten)
            .sort(),
        }).toEqual({
          lid,
          enabled: true,
          alarm: expected,
        });
        expect(
          asArray(props(a).OKActions as unknown[])
            .map(flatten)
            .sort(),
        ).toEqual(expected);
      }
    },
  );

  it.each(FULL)('sets a warning and a critical alarm at the thresholds of the tenant file (%s)', (id) => {
    const a = configOf(id).alarms;
    const byName = Object.fromEntries(
      alarmsOf(raw[id]!).map(([, r]) => [props(r).AlarmName as string, props(r)] as const),
    );
    const expectations: Array<[string, number, number]> = [
      ['Tenant-5xxRate', a.errorRate5xxPercent.warning, a.errorRate5xxPercent.critical],
      ['Api-Latency-P99', a.p99LatencyMs.warning, a.p99LatencyMs.critical],
      ['Tenant-Budget', a.budgetShare.warning, a.budgetShare.critical],
      ['Tenant-FallbackRate', a.fallbackRatePercent.warning, a.fallbackRatePercent.critical],
      ['Inference-Fault-Count', a.lambdaErrors.warning, a.lambdaErrors.critical],
      ['Inference-Throttled-Count', a.throttles.warning, a.throttles.critical],
      ['Ledger-Read-Throttled-Events', a.throttles.warning, a.throttles.critical],
      ['Ledger-Write-Throttled-Events', a.throttles.warning, a.throttles.critical],
    ];
    for (const [name, warning, critical] of expectations) {
      for (const [sev, v] of [
        ['Warning', warning],
        ['Critical', critical],
      ] as const) {
        const p = byName[`Switchboard-${id}-${name}-${sev}`];
        expect({ name, sev, threshold: p?.Threshold, op: p?.ComparisonOperator }).toEqual({
          name,
          sev,
          threshold: v,
          op: 'GreaterThanOrEqualToThreshold',
        });
      }
    }
  });

  it('takes the plan defaults: budget at 80% and 100%, premium latency tighter than basic', () => {
    expect(configOf('acme').alarms.budgetShare).toEqual({ warning: 0.8, critical: 1 });
    expect(configOf('globex').plan).toBe('premium');
    expect(configOf('globex').alarms.p99LatencyMs.critical).toBeLessThan(
      configOf('initech').alarms.p99LatencyMs.critical,
    );
  });

  it.each(TENANTS)('treats missing data as not breaching, except budget which keeps its last state (%s)', (id) => {
    for (const [, r] of alarmsOf(raw[id]!)) {
      const name = props(r).AlarmName as string;
      expect({ name, tmd: props(r).TreatMissingData }).toEqual({
        name,
        tmd: /Budget/.test(name) ? 'ignore' : 'notBreaching',
      });
    }
  });

  it('gives a basic tenant (initech) the essential alarms only: critical, at the thresholds of its file, no composite, no dashboard', () => {
    const t = raw.initech!;
    const a = configOf('initech').alarms;
    expect(configOf('initech').monitoring).toEqual({ dashboard: false, alarms: 'essential' });
    const thresholds = Object.fromEntries(
      alarmsOf(t).map(([, r]) => [props(r).AlarmName as string, props(r).Threshold] as const),
    );
    expect(thresholds).toEqual({
      'Switchboard-initech-Tenant-5xxRate-Critical': a.errorRate5xxPercent.critical,
      'Switchboard-initech-Api-Latency-P99-Critical': a.p99LatencyMs.critical,
      'Switchboard-initech-Tenant-Budget-Critical': a.budgetShare.critical,
      'Switchboard-initech-Tenant-ReviewSla-Critical': a.reviewSlaMinutes.critical * 60,
      'Switchboard-initech-Review-Failure-Count-Critical': a.stateMachineFailures.critical,
      'Switchboard-initech-Tenant-ModelAccessDenied-Critical': 10,
      'Switchboard-initech-Tenant-ReviewsRefused-Critical': 10,
    });
    expect(compositesOf(t)).toEqual([]);
    expect(resourcesOfType(t, 'AWS::CloudWatch::Dashboard')).toEqual([]);
  });

  it.each(FULL)('shows every alarm on the dashboard: in the alarm status widget and graphed (%s)', (id) => {
    const t = raw[id]!;
    const body = dashboardBody(t);
    const status = body.widgets.filter((w) => w.type === 'alarm');
    expect(status).toHaveLength(1);
    const shown = status[0]!.properties.alarms ?? [];
    for (const [lid] of [...alarmsOf(t), ...compositesOf(t)]) expect(shown).toContain(`<${lid}.Arn>`);
    const graphed = body.widgets.flatMap(graphedMetrics).map((m) => JSON.stringify(m));
    for (const [lid, alarm] of alarmsOf(t)) {
      for (const m of alarmMetrics(alarm))
        expect({ lid, graphed: graphed.includes(JSON.stringify(m)) }).toEqual({ lid, graphed: true });
    }
  });

  it.each(FULL)('makes "tenant unhealthy" any critical availability alarm, not budget (%s)', (id) => {
    const t = raw[id]!;
    const [, composite] = onlyResource(t, 'AWS::CloudWatch::CompositeAlarm');
    const rule = flatten(props(composite).AlarmRule);
    const criticals = alarmsOf(t).filter(([, r]) => /-Critical$/.test(props(r).AlarmName as string));
    for (const [lid, r] of criticals) {
      expect({ lid, inRule: rule.includes(lid) }).toEqual({
        lid,
        // Budget and review SLA are business signals, not availability: they stay out of "unhealthy".
        inRule: !/Budget|ReviewSla|ReviewsRefused/.test(props(r).AlarmName as string),
      });
    }
    for (const [lid] of alarmsOf(t).filter(([, r]) => /-Warning$/.test(props(r).AlarmName as string))) {
      expect(rule).not.toContain(lid);
    }
    expect(props(composite).AlarmName).toBe(`Switchboard-${id}-Tenant-Unhealthy-Critical`);
  });

  it('encrypts the tenant ops topic with the tenant key, TLS only, lets CloudWatch alarms of this account publish, and subscribes the contacts (globex)', () => {
    const t = raw.globex!;
    const [keyId, key] = onlyResource(t, 'AWS::KMS::Key');
    const topicId = opsTopicId(t);
    expect(props(t.Resources[topicId]!).KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    const [, policy] = resourcesOfType(t, 'AWS::SNS::TopicPolicy').find(([, p]) =>
      asArray(props(p).Topics as unknown[]).some((x) => flatten(x) === `<${topicId}>`),
    )!;
    const statements = statementsOf(props(policy).PolicyDocument);
    expect(statements.find((s) => s.Effect === 'Deny')?.Condition).toEqual({
      Bool: { 'aws:SecureTransport': 'false' },
    });
    const publish = statements.find(
      (s) => (s.Principal as { Service?: string })?.Service === 'cloudwatch.amazonaws.com',
    );
    expect(publish?.Action).toBe('sns:Publish');
    expect(
      flatten((publish!.Condition as { StringEquals: Record<string, unknown> }).StringEquals['aws:SourceAccount']),
    ).toBe('<AWS::AccountId>');
    const cw = statementsOf(props(key).KeyPolicy).filter(
      (s) => (s.Principal as { Service?: string })?.Service === 'cloudwatch.amazonaws.com',
    );
    expect(cw).toHaveLength(1);
    expect(asArray(cw[0]!.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    const subscribed = resourcesOfType(t, 'AWS::SNS::Subscription')
      .filter(([, sub]) => flatten(props(sub).TopicArn) === `<${topicId}>`)
      .map(([, sub]) => props(sub).Endpoint);
    expect(subscribed).toEqual([...configOf('globex').opsEmails]);
  });

  it.each(FULL)("graphs Bedrock throttles of exactly the tenant's models and fallbacks (%s)", (id) => {
    const rc = toRuntimeConfig(configOf(id));
    const expected = new Set([...Object.values(rc.tierModels), ...Object.values(rc.tierFallbacks).flat()]);
    const bedrock = dashboardBody(raw[id]!)
      .widgets.flatMap(graphedMetrics)
      .filter((m) => m.namespace === 'AWS/Bedrock');
    expect(new Set(bedrock.map((m) => m.name))).toEqual(new Set(['InvocationThrottles']));
    expect(new Set(bedrock.map((m) => m.dimensions.ModelId))).toEqual(expected);
  });

  it('matches the dashboard body snapshot (logical id hashes and the platform export normalised)', () => {
    const text = JSON.stringify(dashboardBody(raw.acme!), null, 1)
      .replace(/([A-Za-z0-9]+?)[0-9A-F]{8}(\.Arn)?>/g, '$1<hash>$2>')
      .replace(/<Import:[^>]+>/g, '<Import>');
    expect(JSON.parse(text)).toMatchSnapshot();
  });
});

/** A stack with stand-ins for the tenant resources and a review state machine of our own. */
function constructStack(
  withReview: boolean,
  overrides: Partial<ConstructorParameters<typeof TenantMonitoring>[2]> = {},
) {
  const stack = new Stack(testApp(), 'T', { env: { region: 'us-east-1' } });
  const key = new kms.Key(stack, 'Key');
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  const api = new apigw.RestApi(stack, 'Api', {
    restApiName: 'switchboard-demo',
    deployOptions: { stageName: 'live' },
  });
  api.root.addMethod('GET', new apigw.LambdaIntegration(fn));
  const table = new dynamodb.Table(stack, 'Table', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  });
  const reviewStateMachine = withReview
    ? new sfn.StateMachine(stack, 'Review', {
        definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Wait')),
      })
    : undefined;
  const monitoring = new TenantMonitoring(stack, 'Monitoring', {
    tenantId: 'demo',
    api,
    stageName: 'live',
    fn,
    table,
    key,
    platformOpsTopic: new sns.Topic(stack, 'PlatformTopic'),
    reviewStateMachine,
    ...overrides,
  });
  return { stack, monitoring, template: Template.fromStack(stack).toJSON() as TemplateLike };
}

describe('TenantMonitoring construct', () => {
  it('graphs one series per allowed tier (a basic tenant: fast and balanced only)', () => {
    const { template } = constructStack(false, { tiers: ['fast', 'balanced'] });
    const tiers = dashboardBody(template)
      .widgets.flatMap(graphedMetrics)
      .filter((m) => m.namespace === METRIC_NAMESPACE && m.dimensions.Tier)
      .map((m) => m.dimensions.Tier);
    expect(new Set(tiers)).toEqual(new Set(['fast', 'balanced']));
  });

  it('deploys with one new: standard plan thresholds, one dashboard named after the tenant', () => {
    const { template } = constructStack(false);
    const names = alarmsOf(template).map(([, r]) => props(r));
    expect(names.find((p) => p.AlarmName === 'Switchboard-demo-Tenant-5xxRate-Critical')?.Threshold).toBe(
      PLAN_DEFAULTS.standard.alarms.errorRate5xxPercent.critical,
    );
    expect(props(onlyResource(template, 'AWS::CloudWatch::Dashboard')[1]).DashboardName).toBe('Switchboard-demo');
  });

  it('adds the review widgets and the review SLA and state machine alarms when given a state machine', () => {
    const { template } = constructStack(true);
    const byName = Object.fromEntries(
      alarmsOf(template).map(([lid, r]) => [props(r).AlarmName as string, [lid, r] as const]),
    );
    const timeout = PLAN_DEFAULTS.standard.escalation.reviewTimeoutMinutes;
    expect(props(byName['Switchboard-demo-Tenant-ReviewSla-Warning']![1]).Threshold).toBe(
      Math.round(timeout * 0.5) * 60,
    );
    expect(props(byName['Switchboard-demo-Tenant-ReviewSla-Critical']![1]).Threshold).toBe(
      Math.round(timeout * 0.8) * 60,
    );
    expect(alarmMetrics(byName['Switchboard-demo-Tenant-ReviewSla-Critical']![1])).toEqual([
      { namespace: METRIC_NAMESPACE, name: METRICS.oldestPendingReviewAge.name, dimensions: { TenantId: 'demo' } },
    ]);
    const sfnAlarms = Object.entries(byName).filter(([n]) => /^Switchboard-demo-Review-/.test(n));
    expect(sfnAlarms.map(([n]) => n).sort()).toEqual([
      'Switchboard-demo-Review-Failure-Count-Critical',
      'Switchboard-demo-Review-Failure-Count-Warning',
      'Switchboard-demo-Review-TimedOut-Count-Critical',
      'Switchboard-demo-Review-TimedOut-Count-Warning',
    ]);
    for (const [, [, r]] of sfnAlarms) {
      expect(alarmMetrics(r).map((m) => m.namespace)).toEqual(expect.arrayContaining(['AWS/States']));
    }
    // The composite includes the state machine's critical alarms, not the review SLA.
    const rule = flatten(props(onlyResource(template, 'AWS::CloudWatch::CompositeAlarm')[1]).AlarmRule);
    expect(rule).toContain(byName['Switchboard-demo-Review-Failure-Count-Critical']![0]);
    expect(rule).not.toContain(byName['Switchboard-demo-Tenant-ReviewSla-Critical']![0]);
    // Widgets: queue depth and age, outcomes; every review alarm is graphed.
    const body = dashboardBody(template);
    const names = new Set(body.widgets.flatMap(graphedMetrics).map((m) => m.name));
    for (const k of [
      'pendingReviews',
      'oldestPendingReviewAge',
      'reviewsApproved',
      'reviewsEdited',
      'reviewsRejected',
      'reviewsExpired',
    ] as const) {
      expect(names).toContain(METRICS[k].name);
    }
    for (const n of ['ExecutionsFailed', 'ExecutionsTimedOut']) expect(names).toContain(n);
    const titles = body.widgets.map((w: WidgetJson) => w.properties.title);
    expect(titles).toEqual(expect.arrayContaining(['Review queue', 'Review outcomes']));
  });

  it('fails when a warning threshold is not below its critical, naming every such threshold', () => {
    const thresholds = {
      ...PLAN_DEFAULTS.basic.alarms,
      p99LatencyMs: { warning: 5000, critical: 5000 },
      budgetShare: { warning: 1.2, critical: 1 },
      reviewSlaMinutes: { warning: 10, critical: 20 },
    };
    expect(() => constructStack(false, { thresholds })).toThrow(
      /thresholds\.p99LatencyMs: warning 5000 must be below critical 5000; thresholds\.budgetShare: warning 1\.2 must be below critical 1/,
    );
  });

  it('fails when the tenant id or the budget is invalid', () => {
    expect(() => constructStack(false, { tenantId: 'Bad_Id', monthlyBudgetUsd: -5 })).toThrow(
      /tenantId: "Bad_Id" must be .*; monthlyBudgetUsd: -5 must be at least 0/,
    );
  });
});
