/**
 * Keeps the capacity model honest about the stacks that are not a tenant's: a pool cell and the control plane. The
 * model counts them from constants (lib/capacity/footprint.ts, POOL_CELL and CONTROL_PLANE, through poolCellUse()
 * and controlPlaneUse()); these tests synthesize the real app and compare, so a change to either stack that the
 * model does not know about fails here, naming the figure to update. (A silo tenant's stack and the platform stack
 * are compared in capacity.test.ts.)
 */
import {
  CONTROL_PLANE,
  controlPlaneResources,
  controlPlaneUse,
  POOL_CELL,
  POOL_CELL_RESOURCES,
  poolCellFixedCost,
  poolCellUse,
} from '../../../lib/capacity/footprint';
import { QUOTA_IDS } from '../../../lib/capacity/quotas';
import type { IdleCostItem } from '../../../lib/capacity/types';
import { CONTROL_PLANE_STACK_NAME } from '../../../lib/stacks/control-plane-stack';
import { poolCellStackName } from '../../../lib/stacks/pool-cell-stack';
import { type Synthesized, synthSwitchboard, tenantDir } from '../../support/synth';
import { resourcesOfType, type TemplateLike } from '../template-utils';
import { COUNTED, UNBOUNDED } from './resource-types';

/** The resource type each quota counts; the model's use of the quota must equal the template's count of it. */
const QUOTA_RESOURCE_TYPE: Readonly<Record<string, string>> = {
  [QUOTA_IDS.restApis]: 'AWS::ApiGateway::RestApi',
  [QUOTA_IDS.usagePlans]: 'AWS::ApiGateway::UsagePlan',
  [QUOTA_IDS.apiKeys]: 'AWS::ApiGateway::ApiKey',
  [QUOTA_IDS.clientCertificates]: 'AWS::ApiGateway::ClientCertificate',
  [QUOTA_IDS.roles]: 'AWS::IAM::Role',
  [QUOTA_IDS.policies]: 'AWS::IAM::ManagedPolicy',
  [QUOTA_IDS.rules]: 'AWS::Events::Rule',
  [QUOTA_IDS.topics]: 'AWS::SNS::Topic',
  [QUOTA_IDS.keys]: 'AWS::KMS::Key',
  [QUOTA_IDS.stateMachines]: 'AWS::StepFunctions::StateMachine',
  [QUOTA_IDS.tables]: 'AWS::DynamoDB::Table',
  [QUOTA_IDS.webAcls]: 'AWS::WAFv2::WebACL',
  [QUOTA_IDS.backupSelections]: 'AWS::Backup::BackupSelection',
  [QUOTA_IDS.guardrails]: 'AWS::Bedrock::Guardrail',
  [QUOTA_IDS.appClients]: 'AWS::Cognito::UserPoolClient',
  [QUOTA_IDS.userPoolGroups]: 'AWS::Cognito::UserPoolGroup',
};

/** Quotas a stack's use counts that are not resources of one type in its template. */
const NOT_A_RESOURCE_COUNT: Readonly<Record<string, (t: TemplateLike) => number>> = {
  [QUOTA_IDS.stacks]: () => 1,
  [QUOTA_IDS.concurrency]: (t) =>
    resourcesOfType(t, 'AWS::Lambda::Function').reduce(
      (n, [, f]) => n + ((f.Properties?.ReservedConcurrentExecutions as number | undefined) ?? 0),
      0,
    ),
};

const count = (t: TemplateLike, type: string) => resourcesOfType(t, type).length;

/**
 * One line per quota where the model's use (`use`) differs from the template: the template's count, the model's,
 * and the figure to update (`where` names it per quota id, `fallback` for the others). Quotas the model counts that
 * this test cannot compare are reported too, so a new one cannot go unchecked.
 */
function useMismatches(
  stack: string,
  t: TemplateLike,
  use: Readonly<Record<string, number>>,
  where: Readonly<Record<string, string>>,
  fallback: string,
): string[] {
  const out: string[] = [];
  for (const id of Object.keys(use)) {
    if (!QUOTA_RESOURCE_TYPE[id] && !NOT_A_RESOURCE_COUNT[id]) {
      out.push(`${fallback} counts ${id}, which this test does not compare with ${stack}: add it here`);
    }
  }
  const compared: Array<[string, string, number]> = [
    ...Object.entries(QUOTA_RESOURCE_TYPE).map(([id, type]): [string, string, number] => [id, type, count(t, type)]),
    ...Object.entries(NOT_A_RESOURCE_COUNT).map(([id, f]): [string, string, number] => [id, id, f(t)]),
  ];
  for (const [id, what, inTemplate] of compared) {
    const modelled = use[id] ?? 0;
    if (modelled !== inTemplate) {
      out.push(
        `${stack} has ${inTemplate} ${what}, the capacity model counts ${modelled} (${id}): update ${where[id] ?? fallback}`,
      );
    }
  }
  return out;
}

/** One line per bill item of `items` whose quantity differs from the template's. */
function costMismatches(
  stack: string,
  items: readonly IdleCostItem[],
  expected: ReadonlyArray<[itemStartsWith: string, inTemplate: number, figure: string]>,
): string[] {
  return expected.flatMap(([prefix, inTemplate, figure]) => {
    const billed = items.find((i) => i.item.startsWith(prefix))?.quantity ?? 0;
    return billed === inTemplate
      ? []
      : [`${stack} has ${inTemplate} for "${prefix}", the capacity model bills ${billed}: update ${figure}`];
  });
}

/** Metrics the alarms of a template are billed for: one per plain alarm, one per metric of a metric-math alarm. */
function alarmMetrics(t: TemplateLike): number {
  return resourcesOfType(t, 'AWS::CloudWatch::Alarm').reduce((n, [, a]) => {
    const math = ((a.Properties?.Metrics as Array<{ MetricStat?: unknown }> | undefined) ?? []).filter(
      (m) => m.MetricStat,
    );
    return n + (a.Properties?.MetricName ? 1 : math.length);
  }, 0);
}

const SCHEDULE_MINUTES: Readonly<Record<string, number>> = { minute: 1, minutes: 1, hour: 60, hours: 60 };

/** Invocations a month (30 days) of the template's `rate(...)` rules, each target counted. */
function scheduledInvocationsPerMonth(t: TemplateLike): number {
  return resourcesOfType(t, 'AWS::Events::Rule').reduce((n, [id, r]) => {
    const m = /^rate\((\d+) (minutes?|hours?)\)$/.exec(String(r.Properties?.ScheduleExpression ?? ''));
    if (!m) throw new Error(`rule ${id}: not a rate(...) schedule; count its invocations in POOL_CELL`);
    const targets = (r.Properties?.Targets as unknown[] | undefined)?.length ?? 0;
    return n + ((30 * 24 * 60) / (Number(m[1]) * SCHEDULE_MINUTES[m[2]!]!)) * targets;
  }, 0);
}

/** Memory (MB) of the functions the template's schedules invoke. */
function scheduledFunctionMemory(t: TemplateLike): number[] {
  const arns = resourcesOfType(t, 'AWS::Events::Rule').flatMap(
    ([, r]) => (r.Properties?.Targets as Array<{ Arn: unknown }> | undefined) ?? [],
  );
  return arns.map(({ Arn }) => {
    const ref = (Arn as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0];
    const fn = ref ? t.Resources[ref] : undefined;
    if (fn?.Type !== 'AWS::Lambda::Function')
      throw new Error(`a schedule targets ${JSON.stringify(Arn)}, not a function`);
    return fn.Properties?.MemorySize as number;
  });
}

/** The pool cell figures of lib/capacity/footprint.ts to update, per quota id. */
const POOL_CELL_FIGURE: Readonly<Record<string, string>> = {
  [QUOTA_IDS.roles]: 'POOL_CELL.roles (lib/capacity/footprint.ts)',
  [QUOTA_IDS.policies]: 'POOL_CELL.roles, used as the policies count too, or poolCellUse() (lib/capacity/footprint.ts)',
  [QUOTA_IDS.topics]: 'POOL_CELL.topics (lib/capacity/footprint.ts)',
  [QUOTA_IDS.keys]: 'POOL_CELL.keys (lib/capacity/footprint.ts)',
};
const CONTROL_PLANE_FIGURE: Readonly<Record<string, string>> = {
  [QUOTA_IDS.roles]: 'CONTROL_PLANE.roles (lib/capacity/footprint.ts)',
  [QUOTA_IDS.policies]:
    'CONTROL_PLANE.roles, used as the policies count too, or controlPlaneUse() (lib/capacity/footprint.ts)',
  [QUOTA_IDS.topics]: 'CONTROL_PLANE.topics (lib/capacity/footprint.ts)',
  [QUOTA_IDS.keys]: 'CONTROL_PLANE.keys (lib/capacity/footprint.ts)',
};

/**
 * Two apps: the repository's (its tenant files, cdk.json's cells) and one of a single silo tenant and three pooled
 * ones on two cells, so the counts are checked for every cell, and the control plane's growth per silo tenant (and
 * none per pooled tenant or cell) shows.
 */
const SMALL_FLEET = {
  solo: 'id: solo\nplan: standard\nescalation:\n  reviewerEmails: [r@example.com]\n',
  ...Object.fromEntries(
    ['pooled-1', 'pooled-2', 'pooled-3'].map((id) => [
      id,
      `id: ${id}\nplan: basic\nisolation: pool\nescalation:\n  reviewerEmails: [r@example.com]\n`,
    ]),
  ),
};

describe('the capacity model against the synthesized pool cell and control plane', () => {
  let repo: Synthesized;
  let small: Synthesized;
  beforeAll(() => {
    repo = synthSwitchboard({ compliance: false });
    small = synthSwitchboard({
      tenantsDir: tenantDir(SMALL_FLEET),
      compliance: false,
      platform: { poolCells: ['pool-1', 'pool-2'] },
    });
  });
  const cells = (s: Synthesized) => s.built.platform.config.poolCells.map(poolCellStackName);
  const template = (s: Synthesized, name: string) => s.template(name) as unknown as TemplateLike;
  const silo = (s: Synthesized) => s.built.configs.filter((c) => c.isolation === 'silo').length;

  it('reads the apps it means to: cells named by cdk.json, silo and pooled tenants in both', () => {
    expect(cells(repo)).toContain('Switchboard-Pool-1');
    expect(cells(small)).toEqual(['Switchboard-Pool-1', 'Switchboard-Pool-2']);
    expect(small.built.configs.map((c) => [c.id, c.isolation])).toEqual([
      ['pooled-1', 'pool'],
      ['pooled-2', 'pool'],
      ['pooled-3', 'pool'],
      ['solo', 'silo'],
    ]);
    expect(silo(repo)).not.toBe(silo(small));
  });

  it('counts what every pool cell stack creates of each quota the model knows (poolCellUse, POOL_CELL)', () => {
    const out = [repo, small].flatMap((s) =>
      cells(s).flatMap((name) => {
        const t = template(s, name);
        const resources = Object.keys(t.Resources).length;
        return [
          ...useMismatches(name, t, poolCellUse(), POOL_CELL_FIGURE, 'poolCellUse() (lib/capacity/footprint.ts)'),
          ...(resources === POOL_CELL_RESOURCES
            ? []
            : [
                `${name} has ${resources} resources, the capacity model counts ${POOL_CELL_RESOURCES}: update POOL_CELL.resources (lib/capacity/footprint.ts)`,
              ]),
        ];
      }),
    );
    // Every cell is the same stack: a wrong figure is said once.
    expect([...new Set(out)]).toEqual([]);
  });

  it("bills what every pool cell has: its keys, alarm metrics, dashboard, schedule and the scheduled function's memory", () => {
    const items = poolCellFixedCost();
    const out = [repo, small].flatMap((s) =>
      cells(s).flatMap((name) => {
        const t = template(s, name);
        const where = (field: string) => `POOL_CELL.${field} (lib/capacity/footprint.ts)`;
        const memory = scheduledFunctionMemory(t);
        return [
          ...costMismatches(name, items, [
            ['KMS keys', count(t, 'AWS::KMS::Key'), where('keys')],
            ['CloudWatch alarm metrics', alarmMetrics(t), where('alarmMetrics')],
            ['CloudWatch dashboard', count(t, 'AWS::CloudWatch::Dashboard'), where('dashboards')],
            ['Housekeeping Lambda requests', scheduledInvocationsPerMonth(t), where('scheduleEveryMinutes')],
          ]),
          ...(JSON.stringify([...memory].sort()) === JSON.stringify([...POOL_CELL.scheduledFunctionMemoryMb].sort())
            ? []
            : [
                `${name}'s schedules invoke functions of ${memory.join(', ')} MB, the capacity model bills ${POOL_CELL.scheduledFunctionMemoryMb.join(', ')} MB: update ${where('scheduledFunctionMemoryMb')}`,
              ]),
        ];
      }),
    );
    // Every cell is the same stack: a wrong figure is said once.
    expect([...new Set(out)]).toEqual([]);
  });

  it('counts what the control plane stack creates, one registration per silo tenant and none per pooled tenant or cell (controlPlaneUse, CONTROL_PLANE)', () => {
    const out = [repo, small].flatMap((s) => {
      const t = template(s, CONTROL_PLANE_STACK_NAME);
      const resources = Object.keys(t.Resources).length;
      const modelled = controlPlaneResources(silo(s));
      return [
        ...useMismatches(
          CONTROL_PLANE_STACK_NAME,
          t,
          controlPlaneUse(),
          CONTROL_PLANE_FIGURE,
          'controlPlaneUse() (lib/capacity/footprint.ts)',
        ),
        ...(resources === modelled
          ? []
          : [
              `${CONTROL_PLANE_STACK_NAME} with ${silo(s)} silo tenants and ${cells(s).length} cells has ${resources} resources, the capacity model counts ${modelled}: update CONTROL_PLANE.baseResources or .resourcesPerSiloTenant (lib/capacity/footprint.ts)`,
            ]),
      ];
    });
    // A figure wrong in both apps is said once.
    expect([...new Set(out)]).toEqual([]);
    // The growth itself, between two apps of different silo fleets.
    const size = (s: Synthesized) => Object.keys(template(s, CONTROL_PLANE_STACK_NAME).Resources).length;
    expect((size(repo) - size(small)) / (silo(repo) - silo(small))).toBe(CONTROL_PLANE.resourcesPerSiloTenant);
  });

  it('has decided, for every resource type of a pool cell and the control plane, whether a quota the fleet could reach applies', () => {
    const types = new Set(
      [...cells(small), CONTROL_PLANE_STACK_NAME].flatMap((name) =>
        Object.values(template(small, name).Resources).map((r) => r.Type),
      ),
    );
    // A new resource type fails here until the capacity model counts it (COUNTED, and a use above) or it is shown
    // to have no quota a fleet could reach (UNBOUNDED, with the reason).
    expect([...types].filter((type) => !COUNTED.has(type) && !UNBOUNDED[type])).toEqual([]);
  });
});
