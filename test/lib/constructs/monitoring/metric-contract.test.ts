/**
 * The metrics the dashboards and alarms read are exactly the ones the handlers emit: same namespace, names and
 * dimension sets. Checked twice: against the shared constants, and against the EMF lines the packaged
 * inference and review-steps handlers printed in scenarios (on dynalite and the Bedrock stand-in) that make
 * every declared metric appear, so no metric the monitoring reads goes unchecked.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { chooseTier, ROUTER_MODEL, scoreRequest } from '../../../../lambda/inference/core/routing/router';
import { makeReviewStore } from '../../../../lambda/review/adapters/dynamo-review-store';
import { DEFAULT_TIER_MODELS } from '../../../../lambda/shared/catalog';
import { usageKey } from '../../../../lambda/shared/ledger-schema';
import { METRIC_DIMENSIONS, METRIC_NAMESPACE, METRICS } from '../../../../lambda/shared/metrics';
import { openReviewsKey } from '../../../../lambda/shared/review-schema';
import { RECOMMENDED_THRESHOLDS } from '../../../../lib/config/plan-defaults';
import { tenantStackName } from '../../../../lib/stacks/tenant-stack';
import { BedrockStub, STUB_GUARDRAIL_MARKERS } from '../../../support/bedrock-stub';
import { lambdaContext, loadBundledHandler, loadBundledModule, proxyEvent } from '../../../support/bundled-handler';
import { DynaliteServer } from '../../../support/dynalite-server';
import { DynamoFaultProxy, INTERNAL_ERROR, touchesUsageCounter } from '../../../support/dynamo-fault-proxy';
import { logicalIdOf, type Synthesized, synthSwitchboard } from '../../../support/synth';
import { resourcesOfType, type TemplateLike } from '../../template-utils';
import { alarmMetrics, dashboardBody, type GraphedMetric, graphedMetrics } from './dashboard-metrics';

const TENANT = 'acme';
const TABLE = 'ledger-metrics';
let synth: Synthesized;
const dynalite = new DynaliteServer();
const bedrock = new BedrockStub();
let proxy: DynamoFaultProxy;
/** Metric name → the dimension sets (sorted, joined) the handlers emitted it with. */
const emitted = new Map<string, Set<string>>();
const emittedTenantIds = new Set<string>();
/** Answers that every tier scores as cut off: the request goes to human review. */
const UNSURE = { kind: 'answer' as const, text: 'The clause is enforceable because', stopReason: 'max_tokens' };

/**
 * Scenarios that make the packaged inference and review-steps handlers emit every metric of `METRICS`: answers,
 * a refusal, a fallback after AccessDenied, an escalation, a guardrail intervention, a model error, an idempotent
 * replay, settlements deferred (DynamoDB failing), reviews handed off (and the hand-off failing), a review refused
 * by the queue cap, a budget downgrade and a budget refusal (month counter set near and at the cap), and the
 * review steps applying each outcome, recording a failure and a webhook failure, and sweeping the queue.
 */
beforeAll(async () => {
  synth = synthSwitchboard({ compliance: false });
  await Promise.all([dynalite.start(), bedrock.start()]);
  proxy = new DynamoFaultProxy(dynalite.endpoint);
  await proxy.start();
  const template = synth.template(tenantStackName(TENANT));
  const tableId = logicalIdOf(template, 'AWS::DynamoDB::Table', 'DataLedger');
  const keyId = logicalIdOf(template, 'AWS::KMS::Key', 'DataKey');
  await dynalite.createTableFromTemplate(template, tableId, TABLE);
  const refs = {
    ...otherRefs(template),
    [tableId]: TABLE,
    [`${keyId}.Arn`]: `arn:aws:kms:us-east-1:111111111111:key/${TENANT}`,
  };
  const env = {
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
    // Nothing listens there: every review hand-off fails (and is counted).
    AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:9',
  };
  const handler = loadBundledHandler({
    template,
    outdir: synth.outdir,
    functionLogicalId: logicalIdOf(template, 'AWS::Lambda::Function', 'Inference'),
    refs,
    env,
  });
  const steps = loadBundledModule<{ handler: (e: unknown) => Promise<unknown> }>({
    template,
    outdir: synth.outdir,
    functionLogicalId: logicalIdOf(template, 'AWS::Lambda::Function', 'ReviewSteps'),
    refs,
    env: {
      ...env,
      REVIEW_STATE_MACHINE_ARN: `arn:aws:states:us-east-1:111111111111:stateMachine:switchboard-${TENANT}-review`,
    },
  }).handler;
  const post = async (body: unknown) => {
    const res = await handler(proxyEvent({ method: 'POST', resource: '/v1/inference', body }), lambdaContext());
    return { status: res.statusCode, json: JSON.parse(res.body) };
  };
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n'));
    return true;
  });
  const statuses: Record<string, number> = {};
  try {
    bedrock.scriptDefault({ kind: 'answer', text: 'The answer is 42.', inputTokens: 10, outputTokens: 5 });
    for (const body of [{ prompt: 'What is 6 times 7?' }, { prompt: 'Name a colour.', tier: 'fast' }, { prompt: '' }]) {
      await post(body);
    }
    // The fast model refuses the call (IAM does not cover where the profile routed it): its fallback answers.
    bedrock.script(DEFAULT_TIER_MODELS.fast, { kind: 'error', errorType: 'AccessDeniedException', status: 403 });
    statuses.denied = (await post({ prompt: 'Name a shape.', tier: 'fast' })).status;
    bedrock.reset();
    bedrock.scriptDefault({ kind: 'answer', text: 'The answer is 42.', inputTokens: 10, outputTokens: 5 });
    // An idempotent replay.
    await post({ prompt: 'Name a number.', idempotencyKey: 'metrics-replay' });
    statuses.replay = (await post({ prompt: 'Name a number.', idempotencyKey: 'metrics-replay' })).status;
    // An escalation: the fast answer is cut off, the balanced one stands.
    bedrock.script(DEFAULT_TIER_MODELS.fast, UNSURE);
    statuses.escalated = (await post({ prompt: 'Summarise the contract.', tier: 'fast' })).status;
    bedrock.reset();
    bedrock.scriptDefault({ kind: 'answer', text: 'The answer is 42.', inputTokens: 10, outputTokens: 5 });
    // A guardrail intervention and a model error.
    statuses.guardrail = (await post({ prompt: `Hello ${STUB_GUARDRAIL_MARKERS.blockInput}`, tier: 'fast' })).status;
    bedrock.scriptDefault({ kind: 'error', status: 400, errorType: 'ValidationException', message: 'bad input' });
    statuses.modelError = (await post({ prompt: 'Name a river.', tier: 'fast' })).status;
    // A settlement DynamoDB refuses (deferred to the reconciler).
    bedrock.scriptDefault({ kind: 'answer', text: 'The answer is 42.', inputTokens: 10, outputTokens: 5 });
    proxy.inject((c) =>
      c.operation === 'UpdateItem' && touchesUsageCounter(c) && String(c.body.UpdateExpression).includes('REMOVE')
        ? INTERNAL_ERROR
        : undefined,
    );
    statuses.deferred = (await post({ prompt: 'Name a city.', tier: 'fast' })).status;
    proxy.clear();
    // Answers for human review (the hand-off to Step Functions fails: nothing listens), one per review outcome.
    bedrock.scriptDefault(UNSURE);
    const pending: Array<{ requestId: string; reviewId: string }> = [];
    for (let i = 0; i < 5; i++) {
      const r = await post({ prompt: `Is clause ${i} enforceable?`, tier: 'deep' });
      statuses[`review${i}`] = r.status;
      pending.push({ requestId: r.json.requestId, reviewId: r.json.reviewId });
    }
    // The review queue is full: the next answer for review is refused.
    await dynalite.dynamo.send(
      new PutItemCommand({ TableName: TABLE, Item: marshall({ ...openReviewsKey(), count: 1_000_000 }) }),
    );
    statuses.refused = (await post({ prompt: 'Is clause 9 enforceable?', tier: 'deep' })).status;
    // The month counter near the cap: an auto request the router sends above the cheapest tier is downgraded.
    bedrock.scriptDefault({ kind: 'answer', text: 'The answer is 42.', inputTokens: 10, outputTokens: 5 });
    const month = new Date().toISOString().slice(0, 7);
    const setCommitted = (usd: number) =>
      dynalite.dynamo.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: marshall({ ...usageKey(month), committedNanoUsd: Math.round(usd * 1e9) }),
        }),
      );
    const strong = STRONG_PROMPTS.find(
      (p) =>
        chooseTier(scoreRequest(ROUTER_MODEL, p).score, ['fast', 'balanced', 'deep'], RECOMMENDED_THRESHOLDS).tier !==
        'fast',
    );
    if (!strong) throw new Error('No prompt of STRONG_PROMPTS routes above the fast tier');
    await setCommitted(750 * 0.95);
    const downgraded = await post({ prompt: strong });
    statuses.downgraded = downgraded.status;
    statuses.downgradedToFast = downgraded.json.tier === 'fast' ? 1 : 0;
    // At the cap: refused.
    await setCommitted(750);
    statuses.budget = (await post({ prompt: 'Name a planet.' })).status;

    // The review steps: each review is recorded, decided (as the decision API records it) and applied.
    const store = makeReviewStore(
      DynamoDBDocumentClient.from(dynalite.dynamo, { marshallOptions: { removeUndefinedValues: true } }),
      TABLE,
    );
    const step = (name: string, ids: { requestId: string; reviewId: string }, extra: object = {}) =>
      steps({ step: name, ...ids, ...extra });
    for (const p of pending) await step('recordPending', p);
    await step('sweep', pending[0]!);
    const decidedAt = new Date().toISOString();
    const [approved, edited, rejected, expired, failed] = pending as [
      (typeof pending)[0],
      (typeof pending)[0],
      (typeof pending)[0],
      (typeof pending)[0],
      (typeof pending)[0],
    ];
    await store.decide(approved.reviewId, { status: 'approved', decidedAt, reviewer: 'ann' });
    await store.decide(edited.reviewId, { status: 'edited', decidedAt, reviewer: 'ann', finalAnswer: 'Yes.' });
    await store.decide(rejected.reviewId, { status: 'rejected', decidedAt, reviewer: 'ann' });
    for (const p of [approved, edited, rejected]) await step('applyDecision', p);
    await step('applyTimeout', expired, { error: { Error: 'States.Timeout' } });
    await step('recordFailure', failed, { error: { Error: 'States.TaskFailed', Cause: 'test' } });
    await step('webhookFailed', approved, { error: { Error: 'WebhookFailed' } });
  } finally {
    spy.mockRestore();
  }
  expect(statuses).toEqual({
    denied: 200,
    replay: 200,
    escalated: 200,
    guardrail: 200,
    modelError: 502,
    deferred: 200,
    review0: 202,
    review1: 202,
    review2: 202,
    review3: 202,
    review4: 202,
    refused: 429,
    downgraded: 200,
    downgradedToFast: 1,
    budget: 429,
  });
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
}, 120_000);

/** Prompts the learned router may send above the cheapest tier (the first that does is used). */
const STRONG_PROMPTS = [
  'Prove that there are infinitely many primes, then derive an asymptotic estimate for the prime counting function and explain each step of the analysis in detail.',
  'Design a fault-tolerant distributed consensus protocol for a multi-region database, compare it with Raft and Paxos, and analyse its failure modes, latency and throughput trade-offs.',
  'Draft a detailed legal memo analysing whether a non-compete clause is enforceable under Delaware and California law, citing the relevant statutes and case law and weighing the arguments on both sides.',
];

afterAll(async () => {
  await Promise.all([dynalite.stop(), bedrock.stop(), proxy?.stop()]);
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
      // Every metric is emitted by some scenario above: the dimension set read must be one it was emitted with.
      const ok = sets?.has(dims) ?? false;
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

  it('reads the review metrics under the tenant dimension only, as the review steps emitted them', () => {
    const read = readByMonitoring(synth.template(tenantStackName(TENANT)) as unknown as TemplateLike);
    const review = read.filter((x) => REVIEW_ONLY.has(x.name));
    expect(review.length).toBeGreaterThan(0);
    for (const m of review) {
      expect(Object.keys(m.dimensions)).toEqual([METRIC_DIMENSIONS.tenant]);
      expect({ name: m.name, emitted: [...(emitted.get(m.name) ?? [])] }).toEqual({
        name: m.name,
        emitted: [METRIC_DIMENSIONS.tenant],
      });
    }
  });

  it('saw every metric the handlers declare emitted by one of the scenarios (none is unchecked)', () => {
    const missing = Object.values(METRICS)
      .map((m) => m.name)
      .filter((name) => !emitted.has(name));
    expect(missing).toEqual([]);
  });
});
