/**
 * The metrics the dashboards and alarms read are exactly the ones the handlers emit: same namespace, names and
 * dimension sets. Checked twice: against the shared constants, and against the EMF lines the packaged
 * inference handler printed while answering requests on dynalite and the Bedrock stand-in.
 */
import { DEFAULT_TIER_MODELS } from '../../../../lambda/shared/catalog';
import { METRIC_DIMENSIONS, METRIC_NAMESPACE, METRICS } from '../../../../lambda/shared/metrics';
import { tenantStackName } from '../../../../lib/stacks/tenant-stack';
import { BedrockStub } from '../../../support/bedrock-stub';
import { lambdaContext, loadBundledHandler, proxyEvent } from '../../../support/bundled-handler';
import { DynaliteServer } from '../../../support/dynalite-server';
import { logicalIdOf, type Synthesized, synthSwitchboard } from '../../../support/synth';
import { resourcesOfType, type TemplateLike } from '../../template-utils';
import { alarmMetrics, dashboardBody, type GraphedMetric, graphedMetrics } from './dashboard-metrics';

const TENANT = 'acme';
let synth: Synthesized;
const dynalite = new DynaliteServer();
const bedrock = new BedrockStub();
/** Metric name → the dimension sets (sorted, joined) the handler emitted it with. */
const emitted = new Map<string, Set<string>>();
const emittedTenantIds = new Set<string>();

beforeAll(async () => {
  synth = synthSwitchboard({ compliance: false });
  await Promise.all([dynalite.start(), bedrock.start()]);
  const template = synth.template(tenantStackName(TENANT));
  const tableId = logicalIdOf(template, 'AWS::DynamoDB::Table', 'DataLedger');
  await dynalite.createTableFromTemplate(template, tableId, 'ledger-metrics');
  const handler = loadBundledHandler({
    template,
    outdir: synth.outdir,
    functionLogicalId: logicalIdOf(template, 'AWS::Lambda::Function', 'Inference'),
    refs: { ...otherRefs(template), [tableId]: 'ledger-metrics' },
    env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.endpoint, AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint },
  });
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n'));
    return true;
  });
  try {
    bedrock.scriptDefault({ kind: 'answer', text: 'The answer is 42.', inputTokens: 10, outputTokens: 5 });
    for (const body of [{ prompt: 'What is 6 times 7?' }, { prompt: 'Name a colour.', tier: 'fast' }, { prompt: '' }]) {
      await handler(proxyEvent({ method: 'POST', resource: '/v1/inference', body }), lambdaContext());
    }
    // The fast model refuses the call (IAM does not cover where the profile routed it): its fallback answers.
    bedrock.script(DEFAULT_TIER_MODELS.fast, { kind: 'error', errorType: 'AccessDeniedException', status: 403 });
    const denied = await handler(
      proxyEvent({ method: 'POST', resource: '/v1/inference', body: { prompt: 'Name a shape.', tier: 'fast' } }),
      lambdaContext(),
    );
    expect(denied.statusCode).toBe(200);
  } finally {
    spy.mockRestore();
  }
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    const rec = JSON.parse(line) as {
      _aws?: {
        CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }>;
      };
      [k: string]: unknown;
    };
    for (const d of rec._aws?.CloudWatchMetrics ?? []) {
      expect(d.Namespace).toBe(METRIC_NAMESPACE);
      for (const m of d.Metrics) {
        const sets = emitted.get(m.Name) ?? new Set<string>();
        for (const dims of d.Dimensions) sets.add([...dims].sort().join(','));
        emitted.set(m.Name, sets);
      }
      emittedTenantIds.add(String(rec[METRIC_DIMENSIONS.tenant]));
    }
  }
});

afterAll(async () => {
  await Promise.all([dynalite.stop(), bedrock.stop()]);
});

/** Placeholder values for every other `Ref` in a function environment (e.g. a state machine ARN). */
function otherRefs(template: { Resources: Record<string, { Properties?: Record<string, unknown> }> }) {
  const refs: Record<string, string> = {};
  for (const r of Object.values(template.Resources)) {
    const vars = (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    for (const v of Object.values(vars)) {
      const ref = (v as { Ref?: unknown })?.Ref;
      if (typeof ref === 'string') refs[ref] = `arn:aws:states:us-east-1:111111111111:stateMachine:${ref}`;
    }
  }
  return refs;
}

/** Every Switchboard metric the tenant dashboard graphs or an alarm evaluates. */
function readByMonitoring(t: TemplateLike): GraphedMetric[] {
  const all = [
    ...dashboardBody(t).widgets.flatMap(graphedMetrics),
    ...resourcesOfType(t, 'AWS::CloudWatch::Alarm').flatMap(([, a]) => alarmMetrics(a)),
  ];
  return all.filter((m) => m.namespace === METRIC_NAMESPACE);
}

/** Metrics only the review handlers emit, with the tenant dimension only. */
const REVIEW_ONLY = new Set<string>(
  (
    [
      'reviewsApproved',
      'reviewsEdited',
      'reviewsRejected',
      'reviewsExpired',
      'reviewsFailed',
      'pendingReviews',
      'oldestPendingReviewAge',
      'webhookFailures',
    ] as const
  ).map((k) => METRICS[k].name),
);

describe('metric contract between the handlers and the monitoring', () => {
  it('captured EMF lines from the packaged handler, under the tenant dimension of acme', () => {
    expect(emitted.get(METRICS.requests.name)).toEqual(
      new Set([METRIC_DIMENSIONS.tenant, [METRIC_DIMENSIONS.tenant, METRIC_DIMENSIONS.tier].sort().join(',')]),
    );
    expect(emittedTenantIds).toEqual(new Set([TENANT]));
  });

  it('reads only metric names defined in the shared constants, with the tenant id of the stack', () => {
    const known = new Set<string>(Object.values(METRICS).map((m) => m.name));
    const read = readByMonitoring(synth.template(tenantStackName(TENANT)) as unknown as TemplateLike);
    expect(read.length).toBeGreaterThan(20);
    for (const m of read) {
      expect({ name: m.name, known: known.has(m.name) }).toEqual({ name: m.name, known: true });
      expect(m.dimensions[METRIC_DIMENSIONS.tenant]).toBe(TENANT);
      for (const d of Object.keys(m.dimensions)) expect(Object.values(METRIC_DIMENSIONS)).toContain(d);
    }
  });

  it('reads every inference metric with a dimension set the handler actually emitted it with', () => {
    const read = readByMonitoring(synth.template(tenantStackName(TENANT)) as unknown as TemplateLike);
    const inference = read.filter((m) => !REVIEW_ONLY.has(m.name));
    expect(inference.length).toBeGreaterThan(0);
    for (const m of inference) {
      const dims = Object.keys(m.dimensions).sort().join(',');
      const sets = emitted.get(m.name);
      // ReviewsRequested and BudgetRejected appear in EMF only when they happen; the names must still be the
      // handler's, so every metric the dashboard reads must have been seen or be emitted with the same sets.
      const ok = sets ? sets.has(dims) : dims === METRIC_DIMENSIONS.tenant || dims.includes(METRIC_DIMENSIONS.tier);
      expect({ name: m.name, dims, ok }).toEqual({ name: m.name, dims, ok: true });
    }
    // The per-request metrics the dashboard splits by tier were emitted by tier.
    for (const name of [
      METRICS.requests.name,
      METRICS.costUsd.name,
      METRICS.inputTokens.name,
      METRICS.outputTokens.name,
    ]) {
      expect(emitted.get(name)?.has([METRIC_DIMENSIONS.tenant, METRIC_DIMENSIONS.tier].sort().join(','))).toBe(true);
    }
  });

  it('reads the review metrics under the tenant dimension only', () => {
    const read = readByMonitoring(synth.template(tenantStackName(TENANT)) as unknown as TemplateLike);
    for (const m of read.filter((x) => REVIEW_ONLY.has(x.name))) {
      expect(Object.keys(m.dimensions)).toEqual([METRIC_DIMENSIONS.tenant]);
    }
  });
});
