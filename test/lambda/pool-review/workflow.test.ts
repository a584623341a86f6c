/**
 * Human review in a pool cell end to end, on the local parts: the cell's state machine taken from the synthesized
 * `Switchboard-Pool-1` template (validated with asl-validator) and run by aws-local-stepfunctions behind the Step
 * Functions stand-in; the packaged pooled inference, review steps and review API bundles; pooled tenants onboarded
 * through the control plane; every ledger call signed by an STS stand-in session of the tenant and checked by the
 * IAM gate against the synthesized tenant-access policy; KMS and Bedrock stand-ins.
 *
 * Time: a tenant's wait times come from its registry item (the control plane writes minutes); one test writes
 * seconds into a tenant's item so its reviews time out in a second or two while another tenant's keep waiting.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { tenantKey } from '../../../lambda/shared/registry-schema';
import { BedrockStub } from '../../support/bedrock-stub';
import { type ProxyHandler, proxyEvent } from '../../support/bundled-handler';
import { DynaliteServer } from '../../support/dynalite-server';
import { KmsStandIn } from '../../support/kms-standin';
import { BundledPoolCell, POOL_REVIEW_STATE_MACHINE_ARN } from '../../support/pooled-bundle';
import { definitionFromTemplate, SfnStandIn } from '../../support/sfn-standin';
import { logicalIdOf, synthSwitchboard } from '../../support/synth';

// asl-validator ships no types.
// biome-ignore lint/suspicious/noExplicitAny: untyped module
const aslValidator: (def: unknown) => { isValid: boolean; errors: unknown[] } = require('asl-validator') as any;

const PROMPT = 'Is clause 7 of the attached contract enforceable in Delaware?';
/** Every model answer is cut off: the scorer puts it below the review threshold on every tier. */
const UNSURE = { kind: 'answer' as const, text: 'Clause 7 is enforceable because', stopReason: 'max_tokens' };
const GUARDRAIL = { arn: 'arn:aws:bedrock:us-east-1:111111111111:guardrail/pool', version: '1' };
const KEY_ARN = 'arn:aws:kms:us-east-1:111111111111:key/pool-1-ledger';
const REVIEWER_ARN = 'arn:aws:sts::111111111111:assumed-role/switchboard-pool-1-reviewer/dana';

const dynalite = new DynaliteServer();
const bedrock = new BedrockStub();
const kms = new KmsStandIn();
const sfn = new SfnStandIn();
let cell: BundledPoolCell;
let steps: (event: unknown) => Promise<unknown>;
let reviewApi: ProxyHandler;
let definition: Record<string, unknown>;
const logLines: string[] = [];

/** A pooled tenant document that sends unsure answers to people. */
const reviewed = (id: string) => ({
  id,
  plan: 'basic',
  isolation: 'pool',
  monthlyBudgetUsd: 50,
  throttle: { rateLimit: 100, burstLimit: 200 },
  escalation: { confidenceThreshold: 0.6, reviewThreshold: 0.3, reviewerEmails: [`reviews@${id}.example`] },
});

beforeAll(async () => {
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    logLines.push(String(chunk));
    return true;
  });
  const synth = synthSwitchboard({ compliance: false });
  const template = synth.template('Switchboard-Pool-1');
  definition = definitionFromTemplate(
    template,
    logicalIdOf(template, 'AWS::StepFunctions::StateMachine', 'ReviewWorkflow'),
  );
  await Promise.all([dynalite.start(), bedrock.start(), kms.start(), sfn.start()]);
  cell = new BundledPoolCell(dynalite, {
    bedrockEndpoint: bedrock.endpoint,
    guardrails: { basic: GUARDRAIL, standard: GUARDRAIL, premium: GUARDRAIL },
    sfnEndpoint: sfn.endpoint,
    name: 'review-cell',
  });
  await cell.start();
  ({ steps, api: reviewApi } = cell.loadReview({ kmsEndpoint: kms.endpoint, keyArn: KEY_ARN }));
  sfn.register(POOL_REVIEW_STATE_MACHINE_ARN, definition, (payload) => steps(payload));
  for (const id of ['rva', 'rvb', 'rvc']) await cell.cell.onboard(reviewed(id));
});

afterAll(async () => {
  jest.restoreAllMocks();
  await Promise.all([dynalite.stop(), bedrock.stop(), kms.stop(), sfn.stop(), cell?.stop()]);
});

beforeEach(() => {
  bedrock.reset();
  bedrock.scriptDefault(UNSURE);
});

afterEach(() => {
  // The IAM gate refused nothing: every ledger call was the tenant's own session on its own keys.
  expect(cell.cell.denied).toEqual([]);
});

const parsed = (r: APIGatewayProxyResult) => ({ status: r.statusCode, json: JSON.parse(r.body) });

/** Asks as `tenant` (the pool authorizer's tenant) and waits until its review waits for a decision. */
async function ask(tenant: string) {
  const r = parsed(
    await cell.handle(
      tenant,
      proxyEvent({ method: 'POST', resource: '/v1/inference', body: { prompt: PROMPT, tier: 'fast' } }),
    ),
  );
  expect(r).toMatchObject({ status: 202, json: { status: 'pending_review', output: null } });
  const reviewId = r.json.reviewId as string;
  await sfn.waitingFor(reviewId);
  return { requestId: r.json.requestId as string, reviewId };
}

/** Calls the cell's review API on `tenant`'s routes (the path IAM matched with the reviewer session's tag). */
async function review(tenant: string, method: string, sub = '', opts: { body?: unknown; reviewId?: string } = {}) {
  return parsed(
    await reviewApi(
      proxyEvent({
        method,
        resource: `/v1/tenants/{tenantId}/reviews${sub}`,
        path: `/v1/tenants/${tenant}/reviews${sub.replace('{reviewId}', opts.reviewId ?? '')}`,
        pathParameters: { tenantId: tenant, ...(opts.reviewId ? { reviewId: opts.reviewId } : {}) },
        body: opts.body,
        userArn: REVIEWER_ARN,
      }),
    ),
  );
}

const requestView = async (tenant: string, requestId: string) =>
  parsed(
    await cell.handle(
      tenant,
      proxyEvent({ method: 'GET', resource: '/v1/requests/{requestId}', pathParameters: { requestId } }),
    ),
  );

describe("the pool cell's review state machine from the template", () => {
  it("is valid ASL; the decision wait comes from the tenant's RecordPending result; every task names the tenant", () => {
    const v = aslValidator(definition);
    expect(v.errors).toEqual([]);
    expect(v.isValid).toBe(true);
    const states = definition.States as Record<string, Record<string, unknown>>;
    expect(states.AwaitDecision).toMatchObject({
      TimeoutSecondsPath: '$.recordPending.result.awaitSeconds.timeout',
      HeartbeatSecondsPath: '$.recordPending.result.awaitSeconds.heartbeat',
    });
    expect(states.AwaitDecision?.TimeoutSeconds).toBeUndefined();
    // The longest review a tenant file may ask for (7 days) fits in the execution.
    expect(definition.TimeoutSeconds as number).toBeGreaterThanOrEqual(10_080 * 60);
    for (const [name, s] of Object.entries(states)) {
      if (s.Type !== 'Task' || !String(s.Resource).includes('lambda:invoke')) continue;
      const payload = (s.Parameters as { Payload: Record<string, unknown> }).Payload;
      expect({ name, tenant: payload['tenantId.$'] }).toEqual({ name, tenant: '$.tenantId' });
    }
  });
});

describe('pooled tenants: review through the cell', () => {
  it("edit: a pooled tenant's unsure answer waits for people, a reviewer edits it, the tenant reads the edited answer", async () => {
    const { requestId, reviewId } = await ask('rva');
    // Reviewers are told through the cell topic, the message naming the tenant (the subscription filter's attribute).
    const note = sfn.published.find((p) => String(p.Message).includes(reviewId)) as
      | { Message: string; MessageAttributes?: Record<string, { DataType: string; StringValue: string }> }
      | undefined;
    expect(note?.MessageAttributes?.tenantId).toEqual({ DataType: 'String', StringValue: 'rva' });
    expect(note?.Message).toContain('/v1/tenants/rva/reviews/');

    const listed = await review('rva', 'GET');
    expect(listed.status).toBe(200);
    expect(listed.json.reviews.map((r: { reviewId: string }) => r.reviewId)).toContain(reviewId);
    const shown = await review('rva', 'GET', '/{reviewId}', { reviewId });
    expect(shown.json).toMatchObject({ reviewId, requestId, status: 'pending', proposedAnswer: UNSURE.text });
    expect(shown.json.input.messages[0].content).toBe(PROMPT);

    const decided = await review('rva', 'POST', '/{reviewId}/decision', {
      reviewId,
      body: { action: 'edit', answer: 'It depends on clause 7(b).', reviewer: 'dana', note: 'needs 7(b)' },
    });
    expect(decided.status).toBe(200);
    const ex = await sfn.finished(reviewId);
    expect(ex.status).toBe('SUCCEEDED');
    expect(ex.states).toEqual(['RecordPending', 'NotifyReviewers', 'AwaitDecision', 'ApplyDecision']);
    expect((await requestView('rva', requestId)).json).toMatchObject({
      status: 'reviewed',
      output: 'It depends on clause 7(b).',
      answeredBy: { type: 'human', outcome: 'edited' },
    });
    // Tokens were encrypted and decrypted under the purpose, the review and the tenant.
    const tokenCalls = kms.calls.filter((c) => c.context['switchboard:review'] === reviewId);
    expect(new Set(tokenCalls.map((c) => c.operation))).toEqual(new Set(['Decrypt', 'Encrypt']));
    expect(tokenCalls.every((c) => c.context['switchboard:tenant'] === 'rva')).toBe(true);
  });

  it("another tenant's review routes neither list, show nor decide it, and change nothing", async () => {
    const { requestId, reviewId } = await ask('rva');
    expect((await review('rvb', 'GET')).json.reviews.map((r: { reviewId: string }) => r.reviewId)).not.toContain(
      reviewId,
    );
    expect(await review('rvb', 'GET', '/{reviewId}', { reviewId })).toMatchObject({
      status: 404,
      json: { error: { code: 'not_found' } },
    });
    const wrong = await review('rvb', 'POST', '/{reviewId}/decision', {
      reviewId,
      body: { action: 'approve', reviewer: 'mallory' },
    });
    expect(wrong).toMatchObject({ status: 404, json: { error: { code: 'not_found' } } });
    expect((await review('rva', 'GET', '/{reviewId}', { reviewId })).json.status).toBe('pending');
    expect((await requestView('rva', requestId)).json.status).toBe('pending_review');
    // A tenant the cell does not serve has no review routes at all.
    expect(await review('nobody', 'GET')).toMatchObject({ status: 404, json: { error: { code: 'not_found' } } });
    // Decided properly, so the execution ends.
    expect(
      (await review('rva', 'POST', '/{reviewId}/decision', { reviewId, body: { action: 'reject', reviewer: 'dana' } }))
        .status,
    ).toBe(200);
    expect((await sfn.finished(reviewId)).status).toBe('SUCCEEDED');
  });

  it("each tenant's own wait: rvc's reviews expire after its seconds while rva's keep waiting in the same state machine", async () => {
    // rvc's registry item says its reviews wait 2 s, heartbeat 1 s (the control plane writes minutes).
    await dynalite.dynamo.send(
      new UpdateItemCommand({
        TableName: cell.cell.registryTable,
        Key: marshall(tenantKey('rvc')),
        UpdateExpression: 'SET #r.#a = :a',
        ExpressionAttributeNames: { '#r': 'review', '#a': 'awaitSeconds' },
        ExpressionAttributeValues: marshall({ ':a': { timeout: 2, heartbeat: 1 } }),
      }),
    );
    // Past the pooled function's and the steps' registry cache.
    await new Promise((r) => setTimeout(r, 10_500));
    const waiting = await ask('rva');
    const short = await ask('rvc');
    const ex = await sfn.finished(short.reviewId);
    expect(ex.status).toBe('SUCCEEDED');
    expect(ex.states).toContain('ApplyTimeoutPolicy');
    // Out of pending_review by its tenant's timeout policy, never by a person.
    const pcView = (await requestView('rvc', short.requestId)).json;
    expect(pcView.status).not.toBe('pending_review');
    expect(pcView.answeredBy?.type).not.toBe('human');
    expect((await review('rvc', 'GET', '/{reviewId}', { reviewId: short.reviewId })).json.status).toBe('expired');
    // rva's review, started earlier, still waits.
    expect(sfn.executions.get(waiting.reviewId)?.status).toBe('RUNNING');
    expect((await review('rva', 'GET', '/{reviewId}', { reviewId: waiting.reviewId })).json.status).toBe('pending');
    await review('rva', 'POST', '/{reviewId}/decision', {
      reviewId: waiting.reviewId,
      body: { action: 'approve', reviewer: 'dana' },
    });
    expect((await sfn.finished(waiting.reviewId)).status).toBe('SUCCEEDED');
  }, 30_000);

  it("the cell's sweep covers every active tenant of the cell, each on its own session", async () => {
    const swept = (await steps({ step: 'sweep' })) as { swept: Record<string, unknown>; tenants: number };
    expect(swept.tenants).toBe(3);
    expect(Object.keys(swept.swept).sort()).toEqual(['rva', 'rvb', 'rvc']);
  });

  it('a step names its tenant or is refused: no tenant, a malformed one, or one the cell does not serve', async () => {
    const base = { step: 'recordPending', reviewId: 'rev_0123456789abcdef', requestId: 'req_1' };
    await expect(steps(base)).rejects.toMatchObject({ name: 'InvalidStepInput' });
    await expect(steps({ ...base, tenantId: 'T#rva#' })).rejects.toMatchObject({ name: 'InvalidStepInput' });
    await expect(steps({ ...base, tenantId: 'nobody' })).rejects.toMatchObject({ name: 'TenantNotServed' });
  });
});
