/**
 * The human review workflow end to end, with every part real except AWS itself: the state machine
 * definition taken from the synthesized template (tokens resolved, validated with asl-validator) and run
 * by aws-local-stepfunctions behind a Step Functions stand-in; its Lambda tasks, the inference handler and
 * the review API are the files CDK packaged; DynamoDB is dynalite (through a fault proxy), KMS and
 * Bedrock are loopback stand-ins, and the SDK clients are the real ones.
 *
 * Time: the tests shorten the decision task's TimeoutSeconds / HeartbeatSeconds in the resolved
 * definition (minutes in the template) so timeouts happen in a second or two.
 */
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { requestKey } from '../../../lambda/shared/ledger-schema';
import {
  MAX_DECISION_BODY_BYTES,
  MAX_REVIEW_INPUT_BYTES,
  openReviewsKey,
  REVIEW_PARTITIONS,
  reviewKey,
} from '../../../lambda/shared/review-schema';
import { BedrockStub } from '../../support/bedrock-stub';
import { lambdaContext, loadBundledModule, type ProxyHandler, proxyEvent } from '../../support/bundled-handler';
import { DynaliteServer } from '../../support/dynalite-server';
import { DynamoFaultProxy, INTERNAL_ERROR } from '../../support/dynamo-fault-proxy';
import { DYNAMODB_MAX_ITEM_BYTES, dynamoItemBytes } from '../../support/item-size';
import { KmsStandIn } from '../../support/kms-standin';
import { readmeVerifier } from '../../support/readme-webhook-verifier';
import { SecretsManagerStandIn } from '../../support/secrets-manager-standin';
import { definitionFromTemplate, SfnStandIn } from '../../support/sfn-standin';
import { logicalIdOf, type Synthesized, synthSwitchboard, tenantDir } from '../../support/synth';
import { tableResolver, WebhookReceiver } from '../../support/webhook-receiver';

// asl-validator ships no types.
// biome-ignore lint/suspicious/noExplicitAny: untyped module
const aslValidator: (def: unknown) => { isValid: boolean; errors: unknown[] } = require('asl-validator') as any;

const PROMPT = 'Is clause 7 of the attached contract enforceable in Delaware?';
/** Every model answer is cut off: the scorer puts it below the review threshold on every tier. */
const UNSURE = { kind: 'answer' as const, text: 'Clause 7 is enforceable because', stopReason: 'max_tokens' };

const dynalite = new DynaliteServer();
const bedrock = new BedrockStub();
const kms = new KmsStandIn();
const sfn = new SfnStandIn();
let proxy: DynamoFaultProxy;
let synth: Synthesized;
/**
 * The tenant's webhook: HTTPS on loopback for hooks.example.com (the origin revu's file declares). The packaged
 * steps function reaches it through the two ports its composition root takes (a name table answering a public
 * address, which the real address policy checks, and an agent trusting the receiver's certificate).
 */
const receiver = new WebhookReceiver('hooks.example.com');
const sm = new SecretsManagerStandIn();
const dnsTable: Record<string, string[]> = {};
const PUBLIC_ADDRESS = '93.184.215.14';
const WEBHOOK_URL = 'https://hooks.example.com/switchboard/T0?token=s3cr3t-in-url';
const SIGNING_KEY = 'wfSigningKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP';
const verify = readmeVerifier();
/** Deliveries the receiver got; `verified`: the README's check accepts the signature. */
const webhookCalls: Array<{
  path: string;
  body: Record<string, unknown>;
  raw: string;
  verified: boolean;
  deliveryId: unknown;
}> = [];
const out: string[] = [];

interface Tenant {
  inference: ProxyHandler;
  reviewApi: ProxyHandler;
  steps: (e: unknown) => Promise<unknown>;
  /** The steps function loaded again with some review settings changed. */
  stepsWith: (changes: Record<string, unknown>) => (e: unknown) => Promise<unknown>;
  /** The packaged steps function as Lambda runs it (`handler`: the system resolver, the default TLS agent). */
  productionSteps: () => (e: unknown) => Promise<unknown>;
  smArn: string;
  table: string;
  definition: Record<string, unknown>;
}
const tenants: Record<string, Tenant> = {};

/**
 * Loads a tenant's packaged functions on a table and state machine of their own. `as` names a fresh copy of the
 * tenant (its own ledger table and state machine), for a test that counts what a sweep finds.
 */
async function loadTenant(id: string, as = id): Promise<void> {
  const template = synth.template(`Switchboard-Tenant-${id}`);
  const tableId = logicalIdOf(template, 'AWS::DynamoDB::Table', 'DataLedger');
  const smId = logicalIdOf(template, 'AWS::StepFunctions::StateMachine', 'ReviewWorkflow');
  const keyId = logicalIdOf(template, 'AWS::KMS::Key', 'DataKey');
  const table = `ledger-${as}`;
  await dynalite.createTableFromTemplate(template, tableId, table);
  const smArn = `arn:aws:states:us-east-1:111111111111:stateMachine:switchboard-${as}-review`;
  const secretIds = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret')
    .map(([logicalId]) => logicalId);
  const refs = {
    // The webhook secret as an operator left it after `npm run webhook:set` (the name is the template's prefix).
    ...Object.fromEntries(
      secretIds.map((s) => [
        s,
        sm.put(`switchboard/${id}/webhook-test`, JSON.stringify({ url: WEBHOOK_URL, signingKey: SIGNING_KEY })),
      ]),
    ),
    [tableId]: table,
    [smId]: smArn,
    [`${keyId}.Arn`]: `arn:aws:kms:us-east-1:111111111111:key/${id}`,
  };
  const env = {
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
    AWS_ENDPOINT_URL_SFN: sfn.endpoint,
    AWS_ENDPOINT_URL_KMS: kms.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
    REVIEW_STATE_MACHINE_ARN: smArn,
  };
  const load = <M>(prefix: string, extra: Record<string, string> = {}) =>
    loadBundledModule<M>({
      template,
      outdir: synth.outdir,
      functionLogicalId: logicalIdOf(template, 'AWS::Lambda::Function', prefix),
      refs,
      env: { ...env, ...extra },
    });
  const stepsVars = (
    template.Resources[logicalIdOf(template, 'AWS::Lambda::Function', 'ReviewSteps')]!.Properties!.Environment as {
      Variables: Record<string, string>;
    }
  ).Variables;
  const reviewConfig = JSON.parse(stepsVars.REVIEW_CONFIG!);
  type StepsModule = {
    handler: (e: unknown) => Promise<unknown>;
    makeHandler: (network: {
      resolve: ReturnType<typeof tableResolver>;
      agent: () => ReturnType<WebhookReceiver['agent']>;
    }) => (e: unknown) => Promise<unknown>;
  };
  const stepsModule = (changes: Record<string, unknown>) =>
    load<StepsModule>('ReviewSteps', { REVIEW_CONFIG: JSON.stringify({ ...reviewConfig, ...changes }) });
  const stepsWith = (changes: Record<string, unknown>) =>
    stepsModule(changes).makeHandler({ resolve: tableResolver(dnsTable), agent: () => receiver.agent() });
  const productionSteps = () => stepsModule({}).handler;
  const steps = stepsWith({});
  const definition = definitionFromTemplate(template, smId, refs);
  sfn.register(smArn, definition, (payload) => steps(payload));
  tenants[as] = {
    inference: load<{ handler: ProxyHandler }>('Inference').handler,
    reviewApi: load<{ handler: ProxyHandler }>('ReviewApi').handler,
    steps,
    stepsWith,
    productionSteps,
    smArn,
    table,
    definition,
  };
}

/** Shortens the decision task's timeout/heartbeat (seconds) for new executions of a tenant. */
function timing(id: string, t: { timeout?: number; heartbeat?: number }) {
  // JSON round trip, not structuredClone: the library checks plain objects against this realm.
  const def = JSON.parse(JSON.stringify(tenants[id]!.definition)) as {
    States: Record<string, Record<string, unknown>>;
  };
  const s = def.States.AwaitDecision!;
  if (t.timeout) s.TimeoutSeconds = t.timeout;
  if (t.heartbeat) s.HeartbeatSeconds = t.heartbeat;
  else delete s.HeartbeatSeconds;
  sfn.register(tenants[id]!.smArn, def, (p) => tenants[id]!.steps(p));
}

/**
 * Holds new executions of a tenant before their `AwaitDecision` task runs: the review exists (pending) but no
 * workflow waits for a decision yet. `atWait` resolves when an execution got there; `release` lets it go on.
 */
function holdBeforeWait(id: string) {
  const t = tenants[id]!;
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let reached!: () => void;
  const atWait = new Promise<void>((r) => {
    reached = r;
  });
  sfn.register(t.smArn, sfn.definitionOf(t.smArn), async (p) => {
    if ((p as { step?: string }).step === 'awaitDecision') {
      reached();
      await gate;
    }
    return t.steps(p);
  });
  return { atWait, release };
}

beforeAll(async () => {
  synth = synthSwitchboard({
    tenantsDir: tenantDir({
      revu: [
        'id: revu',
        'plan: standard',
        'escalation:',
        '  confidenceThreshold: 0.6',
        '  reviewThreshold: 0.3',
        '  onTimeout: release_unreviewed',
        '  reviewTimeoutMinutes: 30',
        '  reviewHeartbeatMinutes: 10',
        '  webhook: { origin: https://hooks.example.com }',
        '  reviewerEmails: [legal-review@example.com]',
      ].join('\n'),
      revr: [
        'id: revr',
        'plan: standard',
        'limits: { maxPromptChars: 200000 }',
        'escalation:',
        '  confidenceThreshold: 0.6',
        '  reviewThreshold: 0.3',
        '  onTimeout: reject',
        '  reviewerEmails: [reject-review@example.com]',
      ].join('\n'),
      revf: [
        'id: revf',
        'plan: standard',
        'escalation:',
        '  confidenceThreshold: 0.6',
        '  reviewThreshold: 0.3',
        '  onTimeout: release_unreviewed',
        '  maxOpenReviews: 2',
        '  maxReviewsPerHour: 20',
        '  reviewerEmails: [flood-review@example.com]',
      ].join('\n'),
    }),
    compliance: false,
  });
  await Promise.all([dynalite.start(), bedrock.start(), kms.start(), sfn.start(), sm.start(), receiver.start()]);
  proxy = new DynamoFaultProxy(dynalite.endpoint);
  await proxy.start();
  receiver.onDelivery = (d) =>
    webhookCalls.push({
      path: d.path,
      body: JSON.parse(d.rawBody),
      raw: d.rawBody,
      verified: verify(d.rawBody, d.headers['switchboard-signature'] as string, SIGNING_KEY),
      deliveryId: d.headers['switchboard-delivery-id'],
    });
  await loadTenant('revu');
  await loadTenant('revr');
  await loadTenant('revf');
  const write = process.stdout.write.bind(process.stdout);
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  void write;
}, 120_000);

afterAll(async () => {
  jest.restoreAllMocks();
  await Promise.all([
    dynalite.stop(),
    bedrock.stop(),
    kms.stop(),
    sfn.stop(),
    proxy.stop(),
    sm.stop(),
    receiver.stop(),
  ]);
});

beforeEach(() => {
  bedrock.reset();
  bedrock.scriptDefault(UNSURE);
  proxy.clear();
  webhookCalls.length = 0;
  receiver.clear();
  dnsTable['hooks.example.com'] = [PUBLIC_ADDRESS];
  timing('revu', {});
  timing('revr', {});
  timing('revf', {});
});

afterEach(() => {
  // Every delivery is signed with the tenant's key (checked with the README's code) and went to the URL the
  // webhook secret holds.
  expect(webhookCalls.filter((c) => !c.verified || c.path !== '/switchboard/T0?token=s3cr3t-in-url')).toEqual([]);
});

/** The message JSON.parse gives for a text (what the body parser quotes). */
function jsonError(text: string): string {
  try {
    JSON.parse(text);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}
const parse = (r: APIGatewayProxyResult) => ({
  status: r.statusCode,
  json: r.body ? JSON.parse(r.body) : null,
  raw: r,
});
const responses: string[] = [];
async function call(h: ProxyHandler, e: Parameters<typeof proxyEvent>[0]) {
  const r = await h(proxyEvent(e), lambdaContext());
  responses.push(r.body);
  return parse(r);
}
const askBody = (idempotencyKey?: string) => ({
  prompt: PROMPT,
  tier: 'fast',
  ...(idempotencyKey ? { idempotencyKey } : {}),
});
async function ask(id: string, idempotencyKey?: string) {
  const r = await call(tenants[id]!.inference, {
    method: 'POST',
    resource: '/v1/inference',
    body: askBody(idempotencyKey),
  });
  expect(r.status).toBe(202);
  expect(r.json).toMatchObject({ status: 'pending_review', output: null });
  const reviewId = r.json.reviewId as string;
  await sfn.waitingFor(reviewId);
  return { requestId: r.json.requestId as string, reviewId };
}
/** The tenant's open-review places: their count and the review ids held. */
async function openPlaces(id: string) {
  const res = await dynalite.dynamo.send(
    new GetItemCommand({ TableName: tenants[id]!.table, Key: marshall(openReviewsKey()), ConsistentRead: true }),
  );
  const item = res.Item ? unmarshall(res.Item) : {};
  return {
    count: (item.count as number | undefined) ?? 0,
    ids: Object.keys(item)
      .filter((k) => k.startsWith('r_'))
      .map((k) => k.slice(2))
      .sort(),
  };
}
const reviewGet = (id: string, reviewId: string) =>
  call(tenants[id]!.reviewApi, { method: 'GET', resource: '/v1/reviews/{reviewId}', pathParameters: { reviewId } });
const REVIEWER_ARN = 'arn:aws:sts::111111111111:assumed-role/switchboard-reviewer/dana';
const decide = (id: string, reviewId: string, body: unknown) =>
  call(tenants[id]!.reviewApi, {
    method: 'POST',
    resource: '/v1/reviews/{reviewId}/decision',
    pathParameters: { reviewId },
    body,
    userArn: REVIEWER_ARN,
  });
const requestView = async (id: string, requestId: string) =>
  (
    await call(tenants[id]!.inference, {
      method: 'GET',
      resource: '/v1/requests/{requestId}',
      pathParameters: { requestId },
    })
  ).json;

describe('review state machine from the template', () => {
  it('is valid ASL with the decision wait bounded: heartbeat < task timeout ≤ state machine timeout', () => {
    const template = synth.template('Switchboard-Tenant-revu');
    const def = definitionFromTemplate(
      template,
      logicalIdOf(template, 'AWS::StepFunctions::StateMachine', 'ReviewWorkflow'),
    );
    const v = aslValidator(def);
    expect(v.errors).toEqual([]);
    expect(v.isValid).toBe(true);
    const wait = def.States.AwaitDecision;
    expect(wait.Resource).toMatch(/lambda:invoke\.waitForTaskToken$/);
    expect(wait.HeartbeatSeconds).toBe(10 * 60);
    expect(wait.TimeoutSeconds).toBe(30 * 60);
    expect(wait.HeartbeatSeconds).toBeLessThan(wait.TimeoutSeconds);
    expect(wait.TimeoutSeconds).toBeLessThanOrEqual(def.TimeoutSeconds);
    const caught = wait.Catch.flatMap((c: { ErrorEquals: string[] }) => c.ErrorEquals);
    expect(caught).toEqual(expect.arrayContaining(['States.Timeout', 'States.HeartbeatTimeout', 'States.ALL']));
    // Every task retries and is caught (the failure handler itself only retries, then fails the execution).
    for (const [name, s] of Object.entries(def.States as Record<string, Record<string, unknown>>)) {
      if (s.Type !== 'Task') continue;
      expect({ name, retry: Array.isArray(s.Retry) && s.Retry.length > 0 }).toEqual({ name, retry: true });
      if (name !== 'RecordFailure') expect({ name, catch: Array.isArray(s.Catch) }).toEqual({ name, catch: true });
    }
  });
});

describe('review paths (each ends in its terminal state with the expected records)', () => {
  it('approve: the model answer goes out, answered by the reviewer; the example is exported; the token never leaks', async () => {
    const { requestId, reviewId } = await ask('revu');
    const shown = await reviewGet('revu', reviewId);
    expect(shown.status).toBe(200);
    expect(shown.json).toMatchObject({ reviewId, requestId, status: 'pending', proposedAnswer: UNSURE.text });
    expect(shown.json.input.messages[0].content).toBe(PROMPT);
    expect(shown.json.attempts.map((a: { tier: string }) => a.tier)).toEqual(['fast', 'balanced', 'deep']);
    expect(shown.json.attempts.every((a: { confidence: number }) => typeof a.confidence === 'number')).toBe(true);
    const listed = await call(tenants.revu!.reviewApi, { method: 'GET', resource: '/v1/reviews' });
    expect(listed.json.reviews.map((r: { reviewId: string }) => r.reviewId)).toContain(reviewId);

    const d = await decide('revu', reviewId, { action: 'approve', reviewer: 'dana@acme.example', note: 'checked' });
    expect(d.status).toBe(200);
    // Who AWS authenticated is kept beside the name the reviewer gave.
    expect((await reviewGet('revu', reviewId)).json.decision).toMatchObject({
      reviewer: 'dana@acme.example',
      reviewerIdentity: REVIEWER_ARN,
      finalAnswer: UNSURE.text,
    });
    const ex = await sfn.finished(reviewId);
    expect(ex.status).toBe('SUCCEEDED');
    expect(ex.states).toEqual(['RecordPending', 'NotifyReviewers', 'AwaitDecision', 'ApplyDecision', 'CallWebhook']);

    const view = await requestView('revu', requestId);
    expect(view).toMatchObject({
      status: 'reviewed',
      output: UNSURE.text,
      answeredBy: { type: 'human', outcome: 'approved' },
    });
    expect(webhookCalls).toHaveLength(1);
    expect(webhookCalls[0]).toMatchObject({ verified: true, deliveryId: `${reviewId}:review.completed` });
    // Connected to the address the policy checked, naming the host for TLS.
    expect(receiver.connects).toEqual([
      { host: 'hooks.example.com', servername: 'hooks.example.com', port: 443, address: PUBLIC_ADDRESS },
    ]);
    expect(webhookCalls[0]!.body).toMatchObject({
      event: 'review.completed',
      reviewId,
      requestId,
      outcome: 'approved',
    });

    const exp = await tenants.revu!.reviewApi(
      proxyEvent({ method: 'GET', resource: '/v1/reviews/export' }),
      lambdaContext(),
    );
    expect(exp.headers?.['content-type']).toBe('application/x-ndjson');
    const lines = exp.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.find((l) => l.reviewId === reviewId)).toMatchObject({
      label: 'approved',
      modelAnswerAccepted: true,
      finalAnswer: UNSURE.text,
      input: { messages: [{ role: 'user', content: PROMPT }] },
    });

    // The reviewers' notification names the review and its path, never the token or the prompt.
    const note = sfn.published.find((p) => p.Message.includes(reviewId))!;
    expect(note.Message).toContain(`/v1/reviews/${reviewId}`);
    expect(note.Message).not.toContain(PROMPT);
    const token = ex.token;
    for (const text of [...responses, ...out, ...sfn.published.map((p) => p.Message), exp.body]) {
      expect(text.includes(token)).toBe(false);
    }
  });

  it('edit: the edited answer goes out; a second decision is 409 review_decided', async () => {
    const { requestId, reviewId } = await ask('revu', 'contract-edit');
    const d = await decide('revu', reviewId, { action: 'edit', answer: 'It depends on §7(b).', reviewer: 'lee' });
    expect(d.status).toBe(200);
    expect((await sfn.finished(reviewId)).status).toBe('SUCCEEDED');
    expect(await requestView('revu', requestId)).toMatchObject({ status: 'reviewed', output: 'It depends on §7(b).' });
    const again = await decide('revu', reviewId, { action: 'reject', reviewer: 'sam' });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('review_decided');
    expect(await requestView('revu', requestId)).toMatchObject({ status: 'reviewed', output: 'It depends on §7(b).' });
    const replay = await call(tenants.revu!.inference, {
      method: 'POST',
      resource: '/v1/inference',
      body: askBody('contract-edit'),
    });
    expect(replay.json).toMatchObject({ requestId, status: 'reviewed', output: 'It depends on §7(b).' });
  });

  it('reject: nothing goes out; the request is rejected', async () => {
    const { requestId, reviewId } = await ask('revr', 'contract-7');
    expect((await decide('revr', reviewId, { action: 'reject', reviewer: 'kim', note: 'wrong law' })).status).toBe(200);
    expect((await sfn.finished(reviewId)).status).toBe('SUCCEEDED');
    const view = await requestView('revr', requestId);
    expect(view).toMatchObject({
      status: 'rejected',
      output: null,
      answeredBy: null,
    });
    expect(view.review).toEqual({ outcome: 'rejected', decidedAt: expect.any(String) });

    // A repeat of the same key reports the rejection; it does not pass the rejected answer off as completed.
    const calls = bedrock.calls.length;
    const replay = await call(tenants.revr!.inference, {
      method: 'POST',
      resource: '/v1/inference',
      body: askBody('contract-7'),
    });
    expect(replay.status).toBe(200);
    expect(replay.raw.headers?.['Idempotent-Replay']).toBe('true');
    expect(replay.json).toMatchObject({ requestId, status: 'rejected', output: null, reviewId });
    expect(bedrock.calls.length).toBe(calls);
  });

  it('API-key callers see the outcome and its time, never who decided or their note (request view, replay, webhook)', async () => {
    const reviewer = 'alice@corp';
    const note = 'internal: customer is difficult';
    for (const [action, answer] of [
      ['approve', undefined],
      ['edit', 'Enforceable only with notice.'],
      ['reject', undefined],
    ] as const) {
      const key = `who-decided-${action}`;
      const { requestId, reviewId } = await ask('revu', key);
      webhookCalls.length = 0;
      const d = await decide('revu', reviewId, { action, reviewer, note, ...(answer ? { answer } : {}) });
      expect(d.status).toBe(200);
      expect((await sfn.finished(reviewId)).status).toBe('SUCCEEDED');
      const viewRaw = await tenants.revu!.inference(
        proxyEvent({ method: 'GET', resource: '/v1/requests/{requestId}', pathParameters: { requestId } }),
        lambdaContext(),
      );
      const replayRaw = await tenants.revu!.inference(
        proxyEvent({ method: 'POST', resource: '/v1/inference', body: askBody(key) }),
        lambdaContext(),
      );
      expect(webhookCalls).toHaveLength(1);
      const outcome = { approve: 'approved', edit: 'edited', reject: 'rejected' }[action];
      const view = JSON.parse(viewRaw.body);
      expect(view.review).toEqual({ outcome, decidedAt: d.json.decidedAt });
      if (action !== 'reject') {
        expect(view.answeredBy).toEqual({ type: 'human', outcome, decidedAt: d.json.decidedAt });
        expect(view.output).toBe(answer ?? UNSURE.text);
      }
      expect(webhookCalls[0]!.body).toEqual({
        event: 'review.completed',
        tenantId: 'revu',
        requestId,
        reviewId,
        outcome,
        decidedAt: d.json.decidedAt,
        path: `/v1/requests/${requestId}`,
      });
      for (const text of [viewRaw.body, replayRaw.body, webhookCalls[0]!.raw]) {
        expect(text).not.toContain('alice');
        expect(text).not.toContain('customer is difficult');
      }
      // Who decided, and the note, are still there for the review side (review API and export).
      expect((await reviewGet('revu', reviewId)).json.decision).toMatchObject({ reviewer, note });
    }
    const exp = await tenants.revu!.reviewApi(
      proxyEvent({ method: 'GET', resource: '/v1/reviews/export' }),
      lambdaContext(),
    );
    expect(exp.body).toContain(reviewer);
  });

  it('timeout with release_unreviewed: the model answer goes out marked unreviewed, the review expires, a late decision is 409 review_expired', async () => {
    timing('revu', { timeout: 1 });
    const { requestId, reviewId } = await ask('revu');
    const ex = await sfn.finished(reviewId);
    expect(ex.status).toBe('SUCCEEDED');
    expect(ex.states).toContain('ApplyTimeoutPolicy');
    const view = await requestView('revu', requestId);
    expect(view).toMatchObject({
      status: 'expired',
      output: UNSURE.text,
      answeredBy: { type: 'model', unreviewed: true },
      review: { outcome: 'expired' },
    });
    const late = await decide('revu', reviewId, { action: 'approve', reviewer: 'late' });
    expect(late.status).toBe(409);
    expect(late.json.error.code).toBe('review_expired');
    expect(webhookCalls.at(-1)?.body).toMatchObject({ reviewId, outcome: 'expired' });
  });

  it('timeout with reject: nothing goes out; the request is expired', async () => {
    timing('revr', { timeout: 1 });
    const { requestId, reviewId } = await ask('revr');
    expect((await sfn.finished(reviewId)).status).toBe('SUCCEEDED');
    const view = await requestView('revr', requestId);
    expect(view.status).toBe('expired');
    expect(view.output).toBeNull();
    expect(view.answeredBy).toBeNull();
    expect(view.review).toMatchObject({ outcome: 'expired' });
    expect(view.review.unreviewed).toBeUndefined();
  });

  it('heartbeat: opening the review keeps it alive; a review nobody opens expires at the heartbeat', async () => {
    timing('revr', { timeout: 4, heartbeat: 1 });
    const kept = await ask('revr');
    await new Promise((r) => setTimeout(r, 600));
    expect((await reviewGet('revr', kept.reviewId)).status).toBe(200); // heartbeat
    await new Promise((r) => setTimeout(r, 600));
    expect((await decide('revr', kept.reviewId, { action: 'approve', reviewer: 'ann' })).status).toBe(200);
    expect((await sfn.finished(kept.reviewId)).status).toBe('SUCCEEDED');
    expect(await requestView('revr', kept.requestId)).toMatchObject({ status: 'reviewed' });

    const idle = await ask('revr');
    const ex = await sfn.finished(idle.reviewId);
    expect(ex.states).toContain('ApplyTimeoutPolicy');
    expect((await requestView('revr', idle.requestId)).status).toBe('expired');
  });

  it('webhook failure: retried, then recorded as failed; the review outcome stands', async () => {
    receiver.behaviour = { kind: 'status', status: 500 };
    const { requestId, reviewId } = await ask('revu');
    await decide('revu', reviewId, { action: 'approve', reviewer: 'dana' });
    const ex = await sfn.finished(reviewId);
    expect(ex.status).toBe('SUCCEEDED');
    expect(ex.states.filter((s) => s === 'CallWebhook')).toHaveLength(4); // 1 + 3 retries
    expect(ex.states.at(-1)).toBe('WebhookFailed');
    expect(webhookCalls).toHaveLength(4);
    expect((await reviewGet('revu', reviewId)).json.status).toBe('approved');
    expect((await requestView('revu', requestId)).status).toBe('reviewed');
  });

  it('a task that fails transiently is retried and the review completes', async () => {
    const { requestId, reviewId } = await ask('revr');
    let failures = 0;
    // The first two attempts to resolve the request record fail (DynamoDB 500s past the SDK's retries).
    proxy.inject((c) =>
      c.operation === 'UpdateItem' &&
      String(c.body.ConditionExpression).includes(':pendingReview') &&
      String(c.body.UpdateExpression).includes('#status =') &&
      failures++ < 10
        ? INTERNAL_ERROR
        : undefined,
    );
    await decide('revr', reviewId, { action: 'approve', reviewer: 'ann' });
    const ex = await sfn.finished(reviewId);
    expect(ex.status).toBe('SUCCEEDED');
    expect(ex.states.filter((s) => s === 'ApplyDecision').length).toBeGreaterThan(1);
    expect((await requestView('revr', requestId)).status).toBe('reviewed');
  });

  it('a task that keeps failing is caught: review and request are recorded failed, the execution fails', async () => {
    proxy.inject((c) =>
      c.operation === 'PutItem' && String((c.body.Item as { pk?: { S?: string } })?.pk?.S).startsWith('REV#')
        ? INTERNAL_ERROR
        : undefined,
    );
    const r = await call(tenants.revr!.inference, {
      method: 'POST',
      resource: '/v1/inference',
      body: { prompt: PROMPT, tier: 'fast' },
    });
    expect(r.status).toBe(202);
    const ex = await sfn.finished(r.json.reviewId);
    expect(ex.status).toBe('FAILED');
    expect(ex.states.filter((s) => s === 'RecordPending')).toHaveLength(4); // 1 + 3 retries
    expect(ex.states.at(-1)).toBe('RecordFailure');
    const view = await requestView('revr', r.json.requestId);
    expect(view).toMatchObject({ status: 'failed', error: { code: 'review_failed' } });
  });

  it('another tenant cannot see or decide a review: 404', async () => {
    const { reviewId } = await ask('revu');
    expect((await reviewGet('revr', reviewId)).status).toBe(404);
    const d = await decide('revr', reviewId, { action: 'approve', reviewer: 'mallory' });
    expect(d.status).toBe(404);
    expect(d.json.error.code).toBe('not_found');
    expect((await reviewGet('revu', reviewId)).json.status).toBe('pending');
    await decide('revu', reviewId, { action: 'reject', reviewer: 'owner' });
    await sfn.finished(reviewId);
  });

  it('a hand-off whose StartExecution failed is started by the sweeper, once', async () => {
    // A copy of revr of its own: the sweeps below count this test's hand-off only.
    const t = 'revr-handoff';
    await loadTenant('revr', t);
    sfn.failNextStarts = 10; // past the SDK's retries
    const r = await call(tenants[t]!.inference, {
      method: 'POST',
      resource: '/v1/inference',
      body: { prompt: PROMPT, tier: 'fast' },
    });
    expect(r.status).toBe(202);
    const reviewId = r.json.reviewId as string;
    expect(sfn.executions.has(reviewId)).toBe(false);
    sfn.failNextStarts = 0;
    const swept = (await tenants[t]!.steps({ step: 'sweep', handOffGraceSeconds: 0 })) as {
      restarted: number;
    };
    expect(swept.restarted).toBe(1);
    await sfn.waitingFor(reviewId);
    // The restarted hand-off holds the one place its request took; starting it again took no second one.
    expect((await openPlaces(t)).ids.filter((x) => x === reviewId)).toEqual([reviewId]);
    // Started and picked up: the next sweep finds nothing to restart.
    expect(
      ((await tenants[t]!.steps({ step: 'sweep', handOffGraceSeconds: 0 })) as { restarted: number }).restarted,
    ).toBe(0);
    expect((await decide(t, reviewId, { action: 'approve', reviewer: 'ann' })).status).toBe(200);
    expect((await sfn.finished(reviewId)).status).toBe('SUCCEEDED');
    expect((await requestView(t, r.json.requestId)).status).toBe('reviewed');
  });

  it('a decision whose resume failed is kept: the same decision sent again resumes the workflow, a different one is 409', async () => {
    const { requestId, reviewId } = await ask('revr');
    sfn.failNextTaskSuccess = 3; // past the SDK's attempts
    const first = await decide('revr', reviewId, {
      action: 'edit',
      answer: 'Enforceable, with caveats.',
      reviewer: 'lee',
    });
    expect(first.status).toBe(202);
    expect(first.json).toMatchObject({ status: 'edited', resumed: false });
    expect(first.json.retry).toContain('send the same decision again');
    expect(sfn.executions.get(reviewId)?.status ?? 'RUNNING').toBe('RUNNING');
    const other = await decide('revr', reviewId, { action: 'reject', reviewer: 'sam' });
    expect(other.status).toBe(409);
    expect(other.json.error.code).toBe('review_decided');
    const again = await decide('revr', reviewId, {
      action: 'edit',
      answer: 'Enforceable, with caveats.',
      reviewer: 'lee',
    });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ status: 'edited', resumed: true, decidedAt: first.json.decidedAt });
    expect((await sfn.finished(reviewId)).status).toBe('SUCCEEDED');
    expect(await requestView('revr', requestId)).toMatchObject({
      status: 'reviewed',
      output: 'Enforceable, with caveats.',
    });
    // Applied: the encrypted token is gone from the review item; a repeat now only confirms.
    const item = await dynalite.dynamo.send(
      new GetItemCommand({ TableName: tenants.revr!.table, Key: marshall(reviewKey(reviewId)), ConsistentRead: true }),
    );
    expect(item.Item?.status?.S).toBe('edited');
    expect(item.Item?.tokenCiphertext).toBeUndefined();
    const late = await decide('revr', reviewId, {
      action: 'edit',
      answer: 'Enforceable, with caveats.',
      reviewer: 'lee',
    });
    expect([late.status, late.json.resumed]).toEqual([200, true]);
  });

  it('an edit too large to store is 413 payload_too_large and changes nothing', async () => {
    const { reviewId } = await ask('revr');
    const d = await decide('revr', reviewId, { action: 'edit', answer: '字'.repeat(150_000), reviewer: 'lee' });
    expect(d.status).toBe(413);
    expect(d.json.error.code).toBe('payload_too_large');
    expect(d.json.error.message).toMatch(/KB/);
    expect((await reviewGet('revr', reviewId)).json.status).toBe('pending');
    expect((await decide('revr', reviewId, { action: 'approve', reviewer: 'lee' })).status).toBe(200);
    await sfn.finished(reviewId);
  });

  it('a prompt too large to copy whole (200,000 characters, 600 KB of UTF-8 with its system text) reaches review: the copy keeps its start and end and says what it left out', async () => {
    const prompt = `START of contract. ${'字'.repeat(194_900)} END: is clause 7 enforceable?`;
    const r = await call(tenants.revr!.inference, {
      method: 'POST',
      resource: '/v1/inference',
      body: { prompt, system: '審'.repeat(5_000), tier: 'fast' },
    });
    expect([r.status, r.json.status]).toEqual([202, 'pending_review']);
    const reviewId = r.json.reviewId as string;
    await sfn.waitingFor(reviewId);
    const shown = (await reviewGet('revr', reviewId)).json;
    const [message] = shown.input.messages as Array<{ content: string }>;
    expect(message!.content.startsWith('START of contract.')).toBe(true);
    expect(message!.content.endsWith('END: is clause 7 enforceable?')).toBe(true);
    expect(message!.content).toMatch(/\[… \d+ characters left out of the review copy …\]/);
    // The short system text is whole; what the reviewer does not see is counted.
    expect(shown.input.system).toBe('審'.repeat(5_000));
    expect(shown.input.omittedChars).toBe(prompt.length - message!.content.replace(/\n\[…[^\]]*\]\n/, '').length);
    expect(Buffer.byteLength(JSON.stringify(shown.input))).toBeLessThanOrEqual(MAX_REVIEW_INPUT_BYTES + 1_024);
    // Both items that hold the copy fit DynamoDB's 400 KB (dynalite counts characters, DynamoDB UTF-8 bytes).
    for (const key of [requestKey(r.json.requestId), reviewKey(reviewId)]) {
      const { Item } = await dynalite.dynamo.send(
        new GetItemCommand({ TableName: tenants.revr!.table, Key: marshall(key), ConsistentRead: true }),
      );
      expect(dynamoItemBytes(Item!)).toBeLessThan(DYNAMODB_MAX_ITEM_BYTES);
    }
    // The review completes as any other.
    expect((await decide('revr', reviewId, { action: 'approve', reviewer: 'lee' })).status).toBe(200);
    expect((await sfn.finished(reviewId)).status).toBe('SUCCEEDED');
    expect(await requestView('revr', r.json.requestId)).toMatchObject({ status: 'reviewed' });
  });

  it('a paging cursor that is not one the API returned is 400 invalid_request', async () => {
    const list = (query: Record<string, string>, resource = '/v1/reviews') =>
      call(tenants.revr!.reviewApi, { method: 'GET', resource, query });
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const cursor of [
      'not-base64-json',
      b64([1, 2]),
      b64({ pk: 'REV#x' }),
      b64({ pk: 1, sk: 2, gsi1pk: 3, gsi1sk: 4 }),
      b64({ pk: 'REV#x', sk: 'REVIEW', gsi1pk: REVIEW_PARTITIONS.decided, gsi1sk: 'x' }), // another listing's cursor
    ]) {
      const r = await list({ status: 'pending', cursor });
      expect([r.status, r.json.error.code]).toEqual([400, 'invalid_request']);
    }
    const exp = await list({ cursor: b64({ a: 1 }) }, '/v1/reviews/export');
    expect([exp.status, exp.json.error.code]).toEqual([400, 'invalid_request']);
  });

  it('a review whose token cannot be stored is retried, then recorded failed with the error name only; its key is not run again', async () => {
    proxy.inject((c) =>
      c.operation === 'UpdateItem' && String(c.body.UpdateExpression).includes('tokenCiphertext = ')
        ? INTERNAL_ERROR
        : undefined,
    );
    const r = await call(tenants.revr!.inference, {
      method: 'POST',
      resource: '/v1/inference',
      body: askBody('token-fails'),
    });
    expect(r.status).toBe(202);
    const ex = await sfn.finished(r.json.reviewId);
    proxy.clear();
    expect(ex.status).toBe('FAILED');
    expect(ex.states.filter((s) => s === 'AwaitDecision').length).toBeGreaterThan(1);
    expect(ex.states.at(-1)).toBe('RecordFailure');
    const review = await reviewGet('revr', r.json.reviewId);
    expect(review.json.status).toBe('failed');
    expect(review.json.decision.note).toBe('The review workflow failed (TokenNotSaved)');
    const view = await requestView('revr', r.json.requestId);
    expect(view).toMatchObject({ status: 'failed', error: { code: 'review_failed' } });
    expect(view.costUsd).toBeGreaterThan(0);
    // Retrying the key does not call the models again (the answer was paid for): 502 review_failed.
    const calls = bedrock.calls.length;
    const again = await call(tenants.revr!.inference, {
      method: 'POST',
      resource: '/v1/inference',
      body: askBody('token-fails'),
    });
    expect([again.status, again.json.error.code]).toEqual([502, 'review_failed']);
    expect(bedrock.calls.length).toBe(calls);
    expect(await requestView('revr', r.json.requestId)).toEqual(view);
  });

  it('a review left pending after its execution stopped is recorded failed by the sweeper, not left pending forever', async () => {
    // A copy of revr of its own: the sweeps below count this test's review only.
    const t = 'revr-orphan';
    await loadTenant('revr', t);
    timing(t, { timeout: 3 });
    const { requestId, reviewId } = await ask(t);
    // The sweeper as deployed: the execution may still be waiting, so the review stays pending.
    const live = (await tenants[t]!.steps({ step: 'sweep' })) as { orphaned: number; pending: number };
    expect([live.orphaned, live.pending]).toEqual([0, 1]);
    // Seen from a sweeper whose state machine timeout has passed (here: 1 s, no grace), nothing can still
    // be waiting for the review: it is recorded failed, and so is its request.
    await new Promise((r) => setTimeout(r, 1_100));
    const sweep = tenants[t]!.stepsWith({ executionTimeoutSeconds: 1 });
    const swept = (await sweep({ step: 'sweep', orphanGraceSeconds: 0 })) as { orphaned: number };
    expect(swept.orphaned).toBe(1);
    const review = await reviewGet(t, reviewId);
    expect(review.json).toMatchObject({ status: 'failed' });
    expect(review.json.decision.note).toContain('ended without a decision');
    expect(await requestView(t, requestId)).toMatchObject({ status: 'failed', error: { code: 'review_failed' } });
    expect((await openPlaces(t)).ids).not.toContain(reviewId);
    const d = await decide(t, reviewId, { action: 'approve', reviewer: 'late' });
    expect([d.status, d.json.error.code]).toEqual([409, 'review_decided']);
    // Its execution (still running in the stand-in) ends at its timeout without undoing anything.
    expect((await sfn.finished(reviewId)).status).toBe('SUCCEEDED');
    expect((await reviewGet(t, reviewId)).json.status).toBe('failed');
  });

  it('a decision that fails to apply is applied by RecordFailure, and the review ends as decided (webhook included)', async () => {
    const { requestId, reviewId } = await ask('revu');
    // Writing the outcome to the request fails until the execution reaches RecordFailure.
    proxy.inject((c) =>
      c.operation === 'UpdateItem' &&
      String(c.body.ConditionExpression).includes(':pendingReview') &&
      String(c.body.UpdateExpression).includes('#status =') &&
      !sfn.executions.get(reviewId)?.states.includes('RecordFailure')
        ? INTERNAL_ERROR
        : undefined,
    );
    expect((await decide('revu', reviewId, { action: 'approve', reviewer: 'dana' })).status).toBe(200);
    const ex = await sfn.finished(reviewId);
    expect(ex.status).toBe('SUCCEEDED');
    expect(ex.states.filter((s) => s === 'ApplyDecision')).toHaveLength(4);
    expect(ex.states.slice(-2)).toEqual(['RecordFailure', 'CallWebhook']);
    expect(await requestView('revu', requestId)).toMatchObject({ status: 'reviewed', output: UNSURE.text });
    expect((await reviewGet('revu', reviewId)).json.status).toBe('approved');
    expect(webhookCalls.map((w) => w.body.outcome)).toEqual(['approved']);
  });

  it('a decision its execution could not apply at all is kept, never overwritten, and applied later by the sweeper', async () => {
    const { requestId, reviewId } = await ask('revu');
    // Every write that moves the request out of pending_review fails, for as long as the execution lives.
    proxy.inject((c) =>
      c.operation === 'UpdateItem' &&
      String(c.body.ConditionExpression).includes(':pendingReview') &&
      String(c.body.UpdateExpression).includes('#status =')
        ? INTERNAL_ERROR
        : undefined,
    );
    expect(
      (await decide('revu', reviewId, { action: 'edit', answer: 'Only with notice.', reviewer: 'lee' })).status,
    ).toBe(200);
    const ex = await sfn.finished(reviewId);
    expect(ex.status).toBe('FAILED');
    expect(ex.states.at(-1)).toBe('RecordFailure');
    proxy.clear();
    // The request still waits; the decision stands (not overwritten as failed).
    expect((await requestView('revu', requestId)).status).toBe('pending_review');
    expect((await reviewGet('revu', reviewId)).json).toMatchObject({ status: 'edited' });
    // The sweep applies decisions left unapplied (here without waiting the usual 20 minutes).
    const swept = (await tenants.revu!.steps({ step: 'sweep', unappliedAfterMinutes: 0 })) as {
      applied: number;
    };
    expect(swept.applied).toBe(1);
    expect(await requestView('revu', requestId)).toMatchObject({ status: 'reviewed', output: 'Only with notice.' });
    // The tenant's webhook hears of it as it would from the workflow.
    expect(webhookCalls.map((w) => [w.body.reviewId, w.body.outcome])).toEqual([[reviewId, 'edited']]);
    const again = (await tenants.revu!.steps({ step: 'sweep', unappliedAfterMinutes: 0 })) as {
      applied: number;
    };
    expect(again.applied).toBe(0);
  });

  it('a decision that cannot list its request for the safety net is refused with 503 and records nothing', async () => {
    const { reviewId, requestId } = await ask('revr');
    proxy.inject((c) =>
      c.operation === 'UpdateItem' && String(c.body.UpdateExpression).includes('gsi1pk = ')
        ? INTERNAL_ERROR
        : undefined,
    );
    const d = await decide('revr', reviewId, { action: 'approve', reviewer: 'ann' });
    proxy.clear();
    expect([d.status, d.json.error.code]).toEqual([503, 'ledger_unavailable']);
    expect((await reviewGet('revr', reviewId)).json.status).toBe('pending');
    expect((await requestView('revr', requestId)).status).toBe('pending_review');
    expect((await decide('revr', reviewId, { action: 'approve', reviewer: 'ann' })).status).toBe(200);
    expect((await sfn.finished(reviewId)).status).toBe('SUCCEEDED');
  });

  it('the sweep clears what it cannot apply: a listing whose review stays pending is skipped, one whose review failed fails its request', async () => {
    // A copy of revr of its own: the sweeps below see only this test's review.
    const t = 'revr-clear';
    await loadTenant('revr', t);
    timing(t, { timeout: 3 });
    const { reviewId, requestId } = await ask(t);
    // The decision API lists the request, then cannot record the decision: the listing stays, the review pending.
    proxy.inject((c) =>
      c.operation === 'UpdateItem' && String(c.body.ConditionExpression).includes('attribute_exists(tokenCiphertext)')
        ? INTERNAL_ERROR
        : undefined,
    );
    const failed = await decide(t, reviewId, { action: 'approve', reviewer: 'ann' });
    proxy.clear();
    expect([failed.status, failed.json.error.code, failed.raw.headers?.['retry-after']]).toEqual([
      503,
      'ledger_unavailable',
      '2',
    ]);
    expect(failed.json.error.message).toContain('send the same decision again');
    const sweep = (extra: Record<string, unknown> = {}) =>
      tenants[t]!.stepsWith({ executionTimeoutSeconds: 1 })({
        step: 'sweep',
        unappliedAfterMinutes: 0,
        ...extra,
      }) as Promise<{ applied: number; orphaned: number }>;
    expect((await sweep()).applied).toBe(0); // pending: skipped, left listed
    expect((await requestView(t, requestId)).status).toBe('pending_review');
    // Orphaned (its execution "stopped"), but failing the request fails: review failed, request still listed.
    await new Promise((r) => setTimeout(r, 1_100));
    proxy.inject((c) =>
      c.operation === 'UpdateItem' && String(c.body.UpdateExpression).includes('#error =') ? INTERNAL_ERROR : undefined,
    );
    await sweep({ orphanGraceSeconds: 0 });
    proxy.clear();
    expect((await reviewGet(t, reviewId)).json.status).toBe('failed');
    expect((await requestView(t, requestId)).status).toBe('pending_review');
    // The next sweep fails the request from its listing and clears it; nothing is left to retry.
    expect((await sweep()).applied).toBe(0);
    expect(await requestView(t, requestId)).toMatchObject({ status: 'failed', error: { code: 'review_failed' } });
    const left = await dynalite.dynamo.send(
      new GetItemCommand({ TableName: tenants[t]!.table, Key: marshall(requestKey(requestId)) }),
    );
    expect(left.Item?.gsi1pk).toBeUndefined();
    await sfn.finished(reviewId);
  });

  it('a token that arrives for a review decided meanwhile is not waited on: the step says ReviewNotPending', async () => {
    const { reviewId, requestId } = await ask('revr');
    expect((await decide('revr', reviewId, { action: 'reject', reviewer: 'kim' })).status).toBe(200);
    await sfn.finished(reviewId);
    await expect(
      tenants.revr!.steps({ step: 'awaitDecision', reviewId, requestId, taskToken: 'tok-late-retry' }),
    ).rejects.toMatchObject({ name: 'ReviewNotPending' });
  });

  it('bad decisions are refused with a 4xx that names the problem and change nothing', async () => {
    const { reviewId } = await ask('revr');
    for (const body of [
      { action: 'maybe', reviewer: 'x' },
      { action: 'edit', reviewer: 'x' },
      { action: 'approve', reviewer: 'x', answer: 'sneaky' },
      { action: 'approve' },
    ]) {
      const d = await decide('revr', reviewId, body);
      expect(d.status).toBe(400);
      expect(d.json.error.code).toBe('invalid_request');
    }
    // Bodies the shared JSON body parser refuses, with the same codes and messages as the inference API.
    const raw = (rawBody: string, headers?: Record<string, string>) =>
      call(tenants.revr!.reviewApi, {
        method: 'POST',
        resource: '/v1/reviews/{reviewId}/decision',
        pathParameters: { reviewId },
        rawBody,
        headers,
        userArn: REVIEWER_ARN,
      });
    const huge = JSON.stringify({ action: 'edit', reviewer: 'x', answer: '\u0000'.repeat(300_000) });
    const refusals = [
      [await raw('', undefined), 400, 'invalid_json', 'Request body is empty; send a JSON object'],
      [await raw('  '), 400, 'invalid_json', 'Request body is empty; send a JSON object'],
      [await raw('[]'), 400, 'invalid_request', 'Request body must be a JSON object'],
      [await raw('null'), 400, 'invalid_request', 'Request body must be a JSON object'],
      [await raw('42'), 400, 'invalid_request', 'Request body must be a JSON object'],
      [await raw('{"action":'), 400, 'invalid_json', `Request body is not valid JSON: ${jsonError('{"action":')}`],
      [
        await raw('{"action":"approve","reviewer":"x"}', { 'content-type': 'text/plain' }),
        415,
        'unsupported_media_type',
        'Content-Type must be application/json (got "text/plain")',
      ],
      [
        await raw('{"action":"approve","reviewer":"x"}', { 'content-type': '' }),
        415,
        'unsupported_media_type',
        'Content-Type must be application/json (got none)',
      ],
      [
        await raw(huge),
        413,
        'payload_too_large',
        `Request body is ${Buffer.byteLength(huge)} bytes; the limit is ${MAX_DECISION_BODY_BYTES} bytes`,
      ],
    ] as const;
    for (const [d, status, code, message] of refusals) {
      expect([d.status, d.json.error.code, d.json.error.message]).toEqual([status, code, message]);
    }
    expect((await reviewGet('revr', reviewId)).json.status).toBe('pending');
    await decide('revr', reviewId, { action: 'approve', reviewer: 'x' });
    await sfn.finished(reviewId);
  });
});

describe('webhook: the URL only in the secret, signed, to a checked address', () => {
  it('keeps the URL out of the template and out of every function environment; only the steps function names the secret', () => {
    const template = synth.template('Switchboard-Tenant-revu');
    const text = JSON.stringify(template);
    for (const part of [WEBHOOK_URL, '/switchboard/T0', 's3cr3t-in-url']) expect(text).not.toContain(part);
    const envOf = (prefix: string) =>
      (
        template.Resources[logicalIdOf(template, 'AWS::Lambda::Function', prefix)]!.Properties!.Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
    expect(JSON.parse(envOf('ReviewSteps').REVIEW_CONFIG as string).webhookOrigin).toBe('https://hooks.example.com');
    expect(envOf('ReviewSteps').WEBHOOK_SECRET_ARN).toEqual({
      Ref: logicalIdOf(template, 'AWS::SecretsManager::Secret', 'ReviewWebhookSecret'),
    });
    expect(envOf('ReviewApi').WEBHOOK_SECRET_ARN).toBeUndefined();
    expect(envOf('Inference').WEBHOOK_SECRET_ARN).toBeUndefined();
  });

  it('a host that now also resolves to the metadata address gets nothing: refused at once (no retries), recorded as failed, the outcome stands', async () => {
    dnsTable['hooks.example.com'] = [PUBLIC_ADDRESS, '169.254.169.254'];
    const { requestId, reviewId } = await ask('revu');
    await decide('revu', reviewId, { action: 'approve', reviewer: 'dana' });
    const ex = await sfn.finished(reviewId);
    expect(ex.status).toBe('SUCCEEDED');
    expect(ex.states.slice(-2)).toEqual(['CallWebhook', 'WebhookFailed']);
    expect(receiver.connects).toEqual([]);
    expect(webhookCalls).toEqual([]);
    const review = await dynalite.dynamo.send(
      new GetItemCommand({ TableName: tenants.revu!.table, Key: marshall(reviewKey(reviewId)) }),
    );
    expect(review.Item?.webhook?.S).toBe('failed');
    expect((await requestView('revu', requestId)).status).toBe('reviewed');
    // Only names reach the log, never the stored URL or its token.
    expect(out.join('')).not.toContain('s3cr3t-in-url');
  });

  it('the packaged handler as Lambda runs it (system resolver, no test ports) refuses a stored URL on the metadata address', async () => {
    const { requestId, reviewId } = await ask('revu');
    await decide('revu', reviewId, { action: 'approve', reviewer: 'dana' });
    await sfn.finished(reviewId);
    webhookCalls.length = 0;
    receiver.clear();
    const secret = 'switchboard/revu/webhook-test';
    try {
      for (const url of ['https://169.254.169.254/latest/meta-data/', 'https://hooks.example.com.evil.net/x']) {
        sm.update(secret, JSON.stringify({ url, signingKey: SIGNING_KEY }));
        await expect(
          tenants.revu!.productionSteps()({ step: 'callWebhook', reviewId, requestId }),
        ).rejects.toMatchObject({ name: 'WebhookRefused' });
      }
    } finally {
      sm.update(secret, JSON.stringify({ url: WEBHOOK_URL, signingKey: SIGNING_KEY }));
    }
    expect(receiver.connects).toEqual([]);
  });
});

describe('review flooding', () => {
  it('five requests with maxTokens 1 are answered 200 truncated: one model call each, no review started, no e-mail', async () => {
    const executions = sfn.executions.size;
    const mails = sfn.published.length;
    for (let i = 0; i < 5; i++) {
      const r = await call(tenants.revf!.inference, {
        method: 'POST',
        resource: '/v1/inference',
        body: { prompt: PROMPT, maxTokens: 1 },
      });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ status: 'completed', truncated: true, output: UNSURE.text });
      expect(r.json.reviewId).toBeUndefined();
    }
    expect(bedrock.calls).toHaveLength(5);
    expect(sfn.executions.size).toBe(executions);
    expect(sfn.published.length).toBe(mails);
    expect(await openPlaces('revf')).toEqual({ count: 0, ids: [] });
  });

  it('beyond maxOpenReviews: 429 review_queue_full, charged and recorded, no execution, no e-mail; reviews that time out in the flooded queue are not released unreviewed', async () => {
    timing('revf', { timeout: 3 });
    const executions = sfn.executions.size;
    const mails = sfn.published.length;
    const first = await ask('revf');
    const second = await ask('revf');
    const refused = await call(tenants.revf!.inference, {
      method: 'POST',
      resource: '/v1/inference',
      body: { prompt: PROMPT, tier: 'fast' },
    });
    expect([refused.status, refused.json.error.code]).toEqual([429, 'review_queue_full']);
    expect(refused.raw.headers?.['retry-after']).toBe('300');
    expect(refused.json.error.message).toContain('escalation.maxOpenReviews: 2');
    expect(sfn.executions.size).toBe(executions + 2);
    expect(sfn.published.length).toBe(mails + 2);
    const refusedView = await requestView('revf', refused.json.error.requestId);
    expect(refusedView).toMatchObject({ status: 'failed', output: null, error: { code: 'review_queue_full' } });
    expect(refusedView.costUsd).toBeGreaterThan(0);
    expect(await openPlaces('revf')).toEqual({ count: 2, ids: [first.reviewId, second.reviewId].sort() });

    // Both time out. The tenant's policy is release_unreviewed, but the queue was full while they waited:
    // their answers are withheld (expired, no output), and the review records why.
    for (const r of [first, second]) {
      const ex = await sfn.finished(r.reviewId);
      expect(ex.states).toContain('ApplyTimeoutPolicy');
      const view = await requestView('revf', r.requestId);
      expect(view).toMatchObject({ status: 'expired', output: null, answeredBy: null, review: { outcome: 'expired' } });
      const item = await dynalite.dynamo.send(
        new GetItemCommand({
          TableName: tenants.revf!.table,
          Key: marshall(reviewKey(r.reviewId)),
          ConsistentRead: true,
        }),
      );
      expect(item.Item?.withheld?.S).toMatch(/^queue_flooded: /);
    }
    expect(await openPlaces('revf')).toEqual({ count: 0, ids: [] });

    // Drained: a review admitted after the flood that times out is released as the tenant chose.
    timing('revf', { timeout: 1 });
    const calm = await ask('revf');
    expect((await sfn.finished(calm.reviewId)).states).toContain('ApplyTimeoutPolicy');
    expect(await requestView('revf', calm.requestId)).toMatchObject({
      status: 'expired',
      output: UNSURE.text,
      answeredBy: { type: 'model', unreviewed: true },
    });
    expect(await openPlaces('revf')).toEqual({ count: 0, ids: [] });
  });

  it('the sweep gives back a place whose release failed, and keeps the places of reviews still open', async () => {
    const open = await ask('revf');
    const done = await ask('revf');
    // Giving the place back fails for as long as the review's execution lives.
    proxy.inject((c) =>
      c.operation === 'UpdateItem' &&
      JSON.stringify(c.body.Key).includes('REVQ#open') &&
      String(c.body.UpdateExpression).startsWith('REMOVE')
        ? INTERNAL_ERROR
        : undefined,
    );
    expect((await decide('revf', done.reviewId, { action: 'approve', reviewer: 'ann' })).status).toBe(200);
    expect((await sfn.finished(done.reviewId)).status).toBe('SUCCEEDED');
    proxy.clear();
    expect(await requestView('revf', done.requestId)).toMatchObject({ status: 'reviewed' });
    expect((await openPlaces('revf')).count).toBe(2);
    // The sweep as deployed leaves recent places alone; with no grace it compares them with the requests.
    expect(((await tenants.revf!.steps({ step: 'sweep' })) as { queueReleased: number }).queueReleased).toBe(0);
    const swept = (await tenants.revf!.steps({ step: 'sweep', queueGraceSeconds: 0 })) as {
      queueReleased: number;
    };
    expect(swept.queueReleased).toBe(1);
    expect(await openPlaces('revf')).toEqual({ count: 1, ids: [open.reviewId] });
    expect((await decide('revf', open.reviewId, { action: 'reject', reviewer: 'ann' })).status).toBe(200);
    expect((await sfn.finished(open.reviewId)).status).toBe('SUCCEEDED');
    expect(await openPlaces('revf')).toEqual({ count: 0, ids: [] });
  });
});

describe('promises of the README on decisions, replays and task tokens', () => {
  it('a decision sent before the workflow waits for one is 409 review_not_ready (Retry-After 2) and changes nothing; once it waits, the same decision goes through', async () => {
    const held = holdBeforeWait('revr');
    let r: Awaited<ReturnType<typeof call>>;
    try {
      r = await call(tenants.revr!.inference, { method: 'POST', resource: '/v1/inference', body: askBody() });
      expect(r.status).toBe(202);
      await held.atWait; // the review is recorded, nothing waits for a decision yet
      const early = await decide('revr', r.json.reviewId, { action: 'approve', reviewer: 'ann' });
      expect([early.status, early.json.error.code, early.raw.headers?.['retry-after']]).toEqual([
        409,
        'review_not_ready',
        '2',
      ]);
      expect((await reviewGet('revr', r.json.reviewId)).json).toMatchObject({ status: 'pending', decision: null });
    } finally {
      held.release(); // also when an expectation failed: no execution is left held
    }
    const reviewId = r.json.reviewId as string;
    await sfn.waitingFor(reviewId);
    expect((await decide('revr', reviewId, { action: 'approve', reviewer: 'ann' })).status).toBe(200);
    expect((await sfn.finished(reviewId)).status).toBe('SUCCEEDED');
    expect((await requestView('revr', r.json.requestId)).status).toBe('reviewed');
  });

  it('a repeat of the key while the review is open answers the same 202 pending_review as a replay: no model call, no second workflow', async () => {
    const first = await call(tenants.revr!.inference, {
      method: 'POST',
      resource: '/v1/inference',
      body: askBody('replay-while-pending'),
    });
    expect([first.status, first.json.status]).toEqual([202, 'pending_review']);
    const reviewId = first.json.reviewId as string;
    await sfn.waitingFor(reviewId);
    const calls = bedrock.calls.length;
    const starts = () => sfn.apiCalls.filter((c) => c.operation === 'StartExecution').length;
    const started = starts();
    const again = await call(tenants.revr!.inference, {
      method: 'POST',
      resource: '/v1/inference',
      body: askBody('replay-while-pending'),
    });
    expect(again.status).toBe(202);
    expect(again.raw.headers?.['Idempotent-Replay']).toBe('true');
    expect(again.json).toEqual(first.json);
    expect(bedrock.calls.length).toBe(calls);
    expect(starts()).toBe(started);
    expect((await decide('revr', reviewId, { action: 'approve', reviewer: 'ann' })).status).toBe(200);
    expect((await sfn.finished(reviewId)).status).toBe('SUCCEEDED');
  });

  it('a decision recorded just before the timeout wins: the workflow was not resumed, and the timeout step applies the decision instead of expiring the review', async () => {
    timing('revr', { timeout: 3 });
    const { requestId, reviewId } = await ask('revr');
    sfn.failNextTaskSuccess = 3; // past the SDK's attempts: the decision is recorded, the workflow not resumed
    const d = await decide('revr', reviewId, { action: 'edit', answer: 'Enforceable with notice.', reviewer: 'lee' });
    expect([d.status, d.json.resumed]).toEqual([202, false]);
    const ex = await sfn.finished(reviewId);
    expect(ex.status).toBe('SUCCEEDED');
    expect(ex.states).toContain('ApplyTimeoutPolicy');
    expect(ex.states).not.toContain('ApplyDecision');
    // revr's timeout policy is reject: without the decision the request would be expired with no output.
    expect(await requestView('revr', requestId)).toMatchObject({
      status: 'reviewed',
      output: 'Enforceable with notice.',
    });
    expect((await reviewGet('revr', reviewId)).json).toMatchObject({
      status: 'edited',
      decision: { reviewer: 'lee', decidedAt: d.json.decidedAt },
    });
  });

  it('a task token copied onto another review does not decrypt there: deciding that review resumes no workflow', async () => {
    timing('revr', { timeout: 3 });
    const a = await ask('revr');
    const b = await ask('revr');
    const table = tenants.revr!.table;
    const itemA = await dynalite.dynamo.send(
      new GetItemCommand({ TableName: table, Key: marshall(reviewKey(a.reviewId)), ConsistentRead: true }),
    );
    expect(itemA.Item?.tokenCiphertext).toBeDefined();
    // Someone who can write the ledger copies A's encrypted token onto B.
    await dynalite.dynamo.send(
      new UpdateItemCommand({
        TableName: table,
        Key: marshall(reviewKey(b.reviewId)),
        UpdateExpression: 'SET tokenCiphertext = :t',
        ExpressionAttributeValues: { ':t': itemA.Item!.tokenCiphertext! },
      }),
    );
    const d = await decide('revr', b.reviewId, { action: 'approve', reviewer: 'mallory' });
    expect([d.status, d.json.resumed]).toEqual([202, false]);
    // KMS refused it under B's encryption context; A's workflow still waits for A's own decision.
    expect(kms.calls.filter((c) => c.operation === 'Decrypt').at(-1)?.context['switchboard:review']).toBe(b.reviewId);
    expect(sfn.executions.get(a.reviewId)?.status).toBe('RUNNING');
    await sfn.waitingFor(a.reviewId);
    expect((await reviewGet('revr', a.reviewId)).json).toMatchObject({ status: 'pending', decision: null });
    expect((await requestView('revr', a.requestId)).status).toBe('pending_review');
    expect((await decide('revr', a.reviewId, { action: 'reject', reviewer: 'kim' })).status).toBe(200);
    expect((await sfn.finished(a.reviewId)).status).toBe('SUCCEEDED');
    expect((await requestView('revr', a.requestId)).status).toBe('rejected');
    // B's workflow was never resumed: it ends at its timeout, which applies the decision recorded for B.
    const exB = await sfn.finished(b.reviewId);
    expect(exB.states).toContain('ApplyTimeoutPolicy');
    expect((await requestView('revr', b.requestId)).status).toBe('reviewed');
  });

  it('the packaged functions retry DynamoDB as they are wired: four failed attempts in a row are retried away (inference, review API)', async () => {
    const attempts = { request: 0, review: 0 };
    proxy.inject((c) => {
      if (c.operation !== 'GetItem') return undefined;
      const pk = String((c.body.Key as { pk?: { S?: string } } | undefined)?.pk?.S);
      const kind = pk.startsWith('REQ#') ? 'request' : pk.startsWith('REV#') ? 'review' : undefined;
      return kind && ++attempts[kind] <= 4 ? INTERNAL_ERROR : undefined;
    });
    bedrock.scriptDefault({ kind: 'answer', text: 'Paris is the capital of France.' });
    const r = await call(tenants.revr!.inference, {
      method: 'POST',
      resource: '/v1/inference',
      body: { prompt: 'What is the capital of France?', tier: 'deep', idempotencyKey: 'read-retried' },
    });
    expect([r.status, r.json.status]).toEqual([200, 'completed']);
    expect(attempts.request).toBeGreaterThanOrEqual(5);
    proxy.clear();

    bedrock.scriptDefault(UNSURE);
    const { reviewId } = await ask('revr');
    attempts.review = 0;
    proxy.inject((c) => {
      const pk = String((c.body.Key as { pk?: { S?: string } } | undefined)?.pk?.S);
      return c.operation === 'GetItem' && pk.startsWith('REV#') && ++attempts.review <= 4 ? INTERNAL_ERROR : undefined;
    });
    const shown = await reviewGet('revr', reviewId);
    proxy.clear();
    expect([shown.status, shown.json.reviewId]).toEqual([200, reviewId]);
    expect(attempts.review).toBeGreaterThanOrEqual(5);
    expect((await decide('revr', reviewId, { action: 'approve', reviewer: 'ann' })).status).toBe(200);
    await sfn.finished(reviewId);
  });
});
