import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  ApiGatewayMonitoring,
  DefaultDashboardFactory,
  DynamoTableMonitoring,
  FullWidth,
  LambdaFunctionMonitoring,
  LatencyType,
  MonitoringFacade,
  notifySns,
  StepFunctionMonitoring,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import type { SeverityThresholds } from '../../config/plan-defaults';
import { errorCountAlarms, p99LatencyAlarms, throttledEventAlarms } from '../monitoring/severity';

/** Props of {@link PoolCellMonitoring}. */
export interface PoolCellMonitoringProps {
  readonly cellId: string;
  /** The cell's API and its stage. */
  readonly api: apigw.IRestApi;
  readonly stageName: string;
  /** The pooled inference function. */
  readonly inference: lambda.IFunction;
  /** The pool authorizer's function. */
  readonly authorizer: lambda.IFunction;
  /** The pooled ledger. */
  readonly table: dynamodb.ITable;
  /** The cell's review workflow: its two functions and its state machine. */
  readonly review: {
    readonly steps: lambda.IFunction;
    readonly api: lambda.IFunction;
    readonly stateMachine: sfn.IStateMachine;
  };
  /** The platform team's ops topic: every alarm of the cell notifies it. */
  readonly platformOpsTopic: sns.ITopic;
  /** Alarm thresholds (critical only: a cell's alarm is the platform team's page). */
  readonly thresholds: {
    readonly p99LatencyMs: SeverityThresholds;
    readonly lambdaErrors: SeverityThresholds;
    readonly throttles: SeverityThresholds;
    readonly stateMachineFailures: SeverityThresholds;
  };
}

/**
 * A pool cell's dashboard (`Switchboard-<cell>`) and critical alarms, on cdk-monitoring-constructs: the cell's API,
 * its inference and authorizer functions and its ledger, alarming the platform ops topic. The tenants of the cell
 * are on the fleet dashboard, by tenant (their metrics carry the `Cell` and `TenantId` dimensions).
 */
export class PoolCellMonitoring extends Construct {
  readonly dashboard?: cloudwatch.Dashboard;
  readonly alarms: readonly cloudwatch.AlarmBase[];

  constructor(scope: Construct, id: string, props: PoolCellMonitoringProps) {
    super(scope, id);
    const t = props.thresholds;
    const critical = ['critical'] as const;
    const facade = new MonitoringFacade(this, 'Monitoring', {
      alarmFactoryDefaults: {
        alarmNamePrefix: `Switchboard-${props.cellId}`,
        actionsEnabled: true,
        action: notifySns(props.platformOpsTopic, props.platformOpsTopic),
        useDefaultDedupeForError: false,
        useDefaultDedupeForLatency: false,
      },
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', {
        dashboardNamePrefix: `Switchboard-${props.cellId}`,
        createDashboard: true,
        detailDashboardRange: Duration.hours(3),
        detailDashboardPeriodOverride: cloudwatch.PeriodOverride.AUTO,
      }),
    });
    const errors = (s: SeverityThresholds) => errorCountAlarms(s, critical);
    const segments = [
      new ApiGatewayMonitoring(facade, {
        api: props.api,
        apiStage: props.stageName,
        alarmFriendlyName: 'Api',
        humanReadableName: `Cell API (API Gateway, stage ${props.stageName})`,
        latencyTypesToRender: [LatencyType.P50, LatencyType.P90, LatencyType.P99],
        addLatencyP99Alarm: p99LatencyAlarms(t.p99LatencyMs, critical),
      }),
      new LambdaFunctionMonitoring(facade, {
        lambdaFunction: props.inference,
        alarmFriendlyName: 'Inference',
        humanReadableName: 'Pooled inference function (Lambda)',
        addFaultCountAlarm: errors(t.lambdaErrors),
        addThrottlesCountAlarm: errors(t.throttles),
      }),
      new LambdaFunctionMonitoring(facade, {
        lambdaFunction: props.authorizer,
        alarmFriendlyName: 'Authorizer',
        humanReadableName: 'Pool authorizer (Lambda)',
        addFaultCountAlarm: errors(t.lambdaErrors),
      }),
      new LambdaFunctionMonitoring(facade, {
        lambdaFunction: props.review.steps,
        alarmFriendlyName: 'ReviewSteps',
        humanReadableName: 'Review steps and sweep (Lambda)',
        addFaultCountAlarm: errors(t.lambdaErrors),
      }),
      new LambdaFunctionMonitoring(facade, {
        lambdaFunction: props.review.api,
        alarmFriendlyName: 'ReviewApi',
        humanReadableName: 'Review API (Lambda)',
        addFaultCountAlarm: errors(t.lambdaErrors),
      }),
      new StepFunctionMonitoring(facade, {
        stateMachine: props.review.stateMachine,
        alarmFriendlyName: 'Review',
        humanReadableName: "Pooled tenants' review workflow (Step Functions)",
        addFailedExecutionCountAlarm: errors(t.stateMachineFailures),
      }),
      new DynamoTableMonitoring(facade, {
        table: props.table,
        alarmFriendlyName: 'Ledger',
        humanReadableName: 'Pooled ledger (DynamoDB)',
        addReadThrottledEventsCountAlarm: throttledEventAlarms(t.throttles, critical),
        addWriteThrottledEventsCountAlarm: throttledEventAlarms(t.throttles, critical),
      }),
    ];
    this.alarms = segments.flatMap((s) => s.createdAlarms()).map((a) => a.alarm);
    facade.addWidget(
      new cloudwatch.TextWidget({
        markdown: `# Switchboard pool cell \`${props.cellId}\`\nShared by the cell's pooled tenants (each on the fleet dashboard by tenant). Alarms notify the platform ops topic; runbooks: README, "Operating Switchboard".`,
        width: FullWidth,
        height: 2,
      }),
    );
    facade.addWidget(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: FullWidth, height: 4 }),
    );
    for (const s of segments) facade.addSegment(s);
    this.dashboard = facade.createdDashboard();
  }
}
