/**
 * Generated bad input against the packaged handlers: fast-check builds requests an attacker or a
 * careless client could send — random JSON shapes and types, deep nesting, prototype keys, huge and odd
 * numbers, unicode (lone surrogates, RTL and zero-width marks), broken JSON, base64 bodies, header tricks,
 * unknown routes and methods — and runs each through the inference and review API files CDK packaged, on
 * dynalite (behind a proxy that logs every DynamoDB operation), the Bedrock stand-in, KMS and Step Functions
 * stand-ins. Every request must get a 2xx, or a 4xx whose body is the error envelope with a stable code that
 * maps to its status; a 4xx must write nothing and call no model; nothing may answer 5xx, hang, or leak a
 * stack trace. A 2xx inference answer has exactly one ledger record.
 *
 * Seeded (FC_SEED overrides the seed), and fast-check shrinks a failure to a minimal request, which the
 * failure message shows with the handler's captured log lines.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { REVIEW_REFUSALS } from '../../lambda/inference/core/review-admission';
import { ERROR_CODES } from '../../lambda/shared/errors';
import { requestKey } from '../../lambda/shared/ledger-schema';
import { BedrockStub } from '../support/bedrock-stub';
import { lambdaContext, loadBundledModule, type ProxyHandler, proxyEvent } from '../support/bundled-handler';
import { DynaliteServer } from '../support/dynalite-server';
import { DynamoFaultProxy } from '../support/dynamo-fault-proxy';
import { KmsStandIn } from '../support/kms-standin';
import { definitionFromTemplate, SfnStandIn } from '../support/sfn-standin';
import { logicalIdOf, synthSwitchboard, tenantDir } from '../support/synth';

const SEED = Number(process.env.FC_SEED ?? 20261202);
const INFERENCE_RUNS = Number(process.env.FC_RUNS ?? 1_000);
const REVIEW_RUNS = Number(process.env.FC_RUNS ?? 400);
/** A request that takes longer than this is a hang (the stand-ins answer in milliseconds). */
const HANG_MS = 15_000;

const WRITE_OPERATIONS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

const dynalite = new DynaliteServer();
const bedrock = new BedrockStub();
const kms = new KmsStandIn();
const sfn = new SfnStandIn();
let proxy: DynamoFaultProxy;
let inference: ProxyHandler;
let reviewApi: ProxyHandler;
let table: string;
/** Reviews the flow left waiting for a decision (some of the generated decisions land on them). */
const pendingReviews: string[] = [];
/** What the handlers wrote to stdout (structured logs, metrics), shown when a run fails. */
const captured: string[] = [];

beforeAll(async () => {
  const synth = synthSwitchboard({
    tenantsDir: tenantDir({
      fuzz: [
        'id: fuzz',
        'plan: standard',
        'monthlyBudgetUsd: 100000',
        'escalation:',
        '  reviewerEmails: [review@fuzz.example.com]',
      ].join('\n'),
    }),
    compliance: false,
  });
  await Promise.all([dynalite.start(), bedrock.start(), kms.start(), sfn.start()]);
  proxy = new DynamoFaultProxy(dynalite.endpoint);
  await proxy.start();
  const template = synth.template('Switchboard-Tenant-fuzz');
  const tableId = logicalIdOf(template, 'AWS::DynamoDB::Table', 'DataLedger');
  const smId = logicalIdOf(template, 'AWS::StepFunctions::StateMachine', 'ReviewWorkflow');
  const keyId = logicalIdOf(template, 'AWS::KMS::Key', 'DataKey');
  table = 'ledger-fuzz';
  await dynalite.createTableFromTemplate(template, tableId, table);
  const smArn = 'arn:aws:states:us-east-1:111111111111:stateMachine:switchboard-fuzz-review';
  const refs = { [tableId]: table, [smId]: smArn, [`${keyId}.Arn`]: 'arn:aws:kms:us-east-1:111111111111:key/fuzz' };
  const env = {
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
    AWS_ENDPOINT_URL_SFN: sfn.endpoint,
    AWS_ENDPOINT_URL_KMS: kms.endpoint,
    REVIEW_STATE_MACHINE_ARN: smArn,
  };
  const load = <M>(prefix: string) =>
    loadBundledModule<M>({
      template,
      outdir: synth.outdir,
      functionLogicalId: logicalIdOf(template, 'AWS::Lambda::Function', prefix),
      refs,
      env,
    });
  const steps = load<{ handler: (e: unknown) => Promise<unknown> }>('ReviewSteps').handler;
  sfn.register(smArn, definitionFromTemplate(template, smId, refs), (payload) => steps(payload));
  inference = load<{ handler: ProxyHandler }>('Inference').handler;
  reviewApi = load<{ handler: ProxyHandler }>('ReviewApi').handler;
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    captured.push(String(chunk));
    if (captured.length > 400) captured.splice(0, captured.length - 200);
    return true;
  });

  // A few answers the scorer sends to review, so that generated decisions can meet real pending reviews.
  bedrock.scriptDefault({ kind: 'answer', text: 'Clause 7 is enforceable because', stopReason: 'max_tokens' });
  for (let i = 0; i < 3; i++) {
    const res = await inference(
      proxyEvent({
        method: 'POST',
        resource: '/v1/inference',
        body: { prompt: `Is clause ${i} of the attached contract enforceable in Delaware?`, tier: 'fast' },
      }),
      lambdaContext(),
    );
    const body = JSON.parse(res.body) as { reviewId?: string };
    if (res.statusCode !== 202 || !body.reviewId) throw new Error(`seeding a review failed: ${res.body}`);
    await sfn.waitingFor(body.reviewId);
    pendingReviews.push(body.reviewId);
  }
  bedrock.reset();
}, 180_000);

afterAll(async () => {
  jest.restoreAllMocks();
  await Promise.all([dynalite.stop(), bedrock.stop(), kms.stop(), sfn.stop(), proxy?.stop()]);
});

// ---------------------------------------------------------------------------------------------------------
// Generated values
// ---------------------------------------------------------------------------------------------------------

/** Characters that break naive text handling: lone surrogates, RTL/zero-width marks, NUL, BOM, emoji. */
const TRICKY = [
  '\uD800',
  '\uDFFF',
  '\u202E',
  '\u200F',
  '\u200B',
  '\u2060',
  '\uFEFF',
  '\u0000',
  '\u001B[31m',
  '😀',
  'ﷺ',
  '\r\n',
  '%00',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the log4j lookup string is the point of this input.
  '${jndi:ldap://x}',
];
const trickyString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...TRICKY), { maxLength: 8 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 300_000 }).map((n) => 'x'.repeat(n)) },
);
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'then'];
const keyName = fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 12 }), trickyString);
const oddNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1, 2 ** 31, 2 ** 53 + 1, 1e308, -1e308, 5e-324, 4096, 100_000),
  fc.bigInt().map((b) => Number(b)),
);
/** Any JSON value, prototype keys included. */
const anyJson = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    oddNumber,
    trickyString,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(keyName, tie('v'), { maxKeys: 4 }),
  ),
})).v;

/** Text a caller may legitimately send, tricky characters included. */
const promptText = fc.oneof(
  fc.constantFrom('What is the capital of France?', 'Summarize: the quick brown fox.', 'Is 2 + 2 = 4?'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }),
  // Well-formed text with marks that trip naive handling (lone surrogates are refused, so they are mutations).
  fc
    .array(fc.constantFrom(...TRICKY.filter((t) => !/^[\uD800-\uDFFF]$/.test(t)), 'word ', 'x'), {
      minLength: 1,
      maxLength: 30,
    })
    .map((a) => a.join('')),
);
const metadataKey = fc.constantFrom('customer', 'ticket.id', 'a', 'A-1:b', 'toString', 'valueOf');
/** Metadata keys the API refuses (reserved JavaScript names, empty, too long, outside the allowed set). */
const badMetadata = fc
  .constantFrom(
    ...PROTO_KEYS.filter((k) => !['toString', 'valueOf'].includes(k)),
    '',
    ' ',
    'k'.repeat(65),
    'ü',
    '$where',
  )
  .map((key) => JSON.parse(`{${JSON.stringify(key)}:"v"}`) as unknown);
/** A valid inference request: the base that mutations start from, so most runs reach the model and the ledger. */
const validInference = fc
  .record(
    {
      input: fc.oneof(
        promptText.map((prompt) => ({ prompt })),
        // Earlier turns alternate user/assistant and the last one is the user's.
        fc.array(fc.tuple(promptText, promptText), { minLength: 0, maxLength: 2 }).map((turns) => ({
          messages: [
            ...turns.flatMap(([asked, answered]) => [
              { role: 'user', content: asked },
              { role: 'assistant', content: answered },
            ]),
            { role: 'user', content: 'Go on.' },
          ],
        })),
      ),
      system: promptText,
      tier: fc.constantFrom('fast', 'balanced', 'deep', 'auto'),
      maxTokens: fc.integer({ min: 1, max: 750 }),
      idempotencyKey: fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/),
      metadata: fc.dictionary(metadataKey, fc.oneof(fc.string({ maxLength: 40 }), promptText), {
        maxKeys: 4,
      }),
    },
    { requiredKeys: ['input'] },
  )
  .map(({ input, ...rest }) => ({ ...input, ...rest }) as Record<string, unknown>);
const FIELDS = ['prompt', 'messages', 'system', 'tier', 'maxTokens', 'idempotencyKey', 'metadata', 'temperature'];
/** One field set to a hostile value (own `__proto__` and `constructor` keys included). */
const mutation = fc.record({
  key: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...FIELDS) }, { weight: 1, arbitrary: keyName }),
  value: fc.oneof(anyJson, trickyString, oddNumber, badMetadata),
});
const inferenceLike = fc.tuple(validInference, fc.array(mutation, { maxLength: 2 })).map(([body, changes]) => {
  const out: Record<string, unknown> = { ...body };
  // defineProperty: an own "__proto__" key that JSON.stringify writes, as an attacker's JSON would carry it.
  for (const c of changes) Object.defineProperty(out, c.key, { value: c.value, enumerable: true, writable: true });
  return out;
});
/** Raw bodies that are not what JSON.stringify would write. */
const rawBody = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
  fc.constantFrom(
    '{"prompt":"a","prompt":{"x":1}}',
    '{"__proto__":{"prompt":"polluted"}}',
    '{"prompt":"hi","maxTokens":1e999}',
    '{"prompt":"hi","maxTokens":-1e-999}',
    '\uFEFF{"prompt":"hi"}',
    '{"prompt":"\\ud800"}',
    '{"prompt":"hi"',
    'null',
    '[]',
    '"prompt"',
    '',
  ),
);
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'text/plain',
  'application/json; charset=utf-16',
  'multipart/form-data; boundary=x',
  '',
];
const headers = fc.record(
  {
    'content-type': fc.oneof(fc.constantFrom(...CONTENT_TYPES), trickyString),
    'Content-Type': fc.constantFrom(...CONTENT_TYPES),
    'x-api-key': trickyString,
    'idempotency-key': trickyString,
    'content-length': fc.oneof(fc.nat().map(String), trickyString),
    'x-forwarded-for': fc.constantFrom('169.254.169.254', '10.0.0.1, 1.2.3.4', '::1'),
    'x-amzn-requestid': trickyString,
  },
  { requiredKeys: [] },
);

interface GeneratedRequest {
  readonly event: APIGatewayProxyEvent;
  readonly describe: string;
}

function eventOf(e: {
  method: string;
  resource: string;
  path?: string;
  body?: unknown;
  raw?: string;
  base64?: boolean;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string> | null;
  query?: Record<string, string> | null;
  userArn?: string;
}): APIGatewayProxyEvent {
  const event = proxyEvent({
    method: e.method,
    resource: e.resource,
    path: e.path,
    ...(e.raw !== undefined ? { rawBody: e.raw } : e.body !== undefined ? { body: e.body } : {}),
    headers: e.headers,
    pathParameters: e.pathParameters ?? undefined,
    query: e.query ?? undefined,
    userArn: e.userArn,
  });
  if (e.base64 && typeof event.body === 'string') {
    return { ...event, isBase64Encoded: true, body: Buffer.from(event.body, 'utf8').toString('base64') };
  }
  return event;
}

const inferenceRequest: fc.Arbitrary<GeneratedRequest> = fc
  .record({
    route: fc.oneof(
      { weight: 8, arbitrary: fc.constant({ method: 'POST', resource: '/v1/inference' }) },
      { weight: 1, arbitrary: fc.constant({ method: 'GET', resource: '/v1/requests/{requestId}' }) },
      { weight: 1, arbitrary: fc.constant({ method: 'GET', resource: '/v1/usage' }) },
      {
        weight: 1,
        arbitrary: fc.record({
          method: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'post', ''),
          resource: fc.constantFrom('/v1/inference', '/v1/usage', '/v1/reviews', '/', '/v1/../admin', '/{proxy+}'),
        }),
      },
    ),
    body: fc.oneof(
      { weight: 4, arbitrary: validInference.map((b) => ({ body: b as unknown })) },
      { weight: 4, arbitrary: inferenceLike.map((b) => ({ body: b as unknown })) },
      { weight: 2, arbitrary: anyJson.map((b) => ({ body: b })) },
      { weight: 2, arbitrary: rawBody.map((raw) => ({ raw })) },
      { weight: 1, arbitrary: fc.constant({}) },
    ),
    // One in six bodies base64-encoded (shrinks towards plain text).
    base64: fc.integer({ min: 0, max: 5 }).map((n) => n === 5),
    // Most requests carry the headers a client sends; one in five carries generated header tricks.
    headers: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: headers }),
    requestId: fc.oneof(fc.stringMatching(/^req_[a-z0-9]{8,26}$/), trickyString),
    query: fc.option(fc.dictionary(keyName, trickyString, { maxKeys: 3 }), { nil: null }),
  })
  .map((g) => {
    const event = eventOf({
      ...g.route,
      ...g.body,
      base64: g.base64,
      headers: g.headers as Record<string, string> | undefined,
      pathParameters: g.route.resource === '/v1/requests/{requestId}' ? { requestId: g.requestId } : null,
      query: g.query,
    });
    return { event, describe: `${event.httpMethod} ${event.resource}` };
  });

const REVIEW_ROUTES = [
  { method: 'GET', resource: '/v1/reviews' },
  { method: 'GET', resource: '/v1/reviews/export' },
  { method: 'GET', resource: '/v1/reviews/{reviewId}' },
  { method: 'POST', resource: '/v1/reviews/{reviewId}/decision' },
  { method: 'DELETE', resource: '/v1/reviews/{reviewId}' },
  { method: 'GET', resource: '/v1/inference' },
];
const decisionLike = fc.record(
  {
    action: fc.oneof(fc.constantFrom('approve', 'edit', 'reject', 'APPROVE', ''), anyJson),
    answer: fc.oneof(trickyString, anyJson),
    reviewer: fc.oneof(fc.constantFrom('dana@example.com'), trickyString, anyJson),
    note: fc.oneof(trickyString, anyJson),
    [PROTO_KEYS[0]!]: anyJson,
    extra: anyJson,
  },
  { requiredKeys: [] },
);
const reviewRequest: fc.Arbitrary<GeneratedRequest> = fc
  .record({
    route: fc.constantFrom(...REVIEW_ROUTES),
    reviewId: fc.oneof(
      fc.integer({ min: 0, max: 2 }).map((i) => ({ pending: i })),
      fc.stringMatching(/^rev_[A-Za-z0-9_-]{10,30}$/).map((id) => ({ id })),
      trickyString.map((id) => ({ id })),
    ),
    body: fc.oneof(
      { weight: 5, arbitrary: decisionLike.map((b) => ({ body: b as unknown })) },
      { weight: 2, arbitrary: anyJson.map((b) => ({ body: b })) },
      { weight: 2, arbitrary: rawBody.map((raw) => ({ raw })) },
    ),
    base64: fc.boolean(),
    headers: fc.option(headers, { nil: undefined }),
    query: fc.option(
      fc.record(
        {
          status: fc.oneof(fc.constantFrom('pending', 'decided', 'approved', 'all'), trickyString),
          limit: fc.oneof(fc.nat().map(String), fc.constantFrom('-1', '0', '1e9', 'NaN', '0x10'), trickyString),
          cursor: trickyString,
          since: trickyString,
          [PROTO_KEYS[1]!]: trickyString,
        },
        { requiredKeys: [] },
      ),
      { nil: null },
    ),
    userArn: fc.oneof(
      fc.constant('arn:aws:sts::111111111111:assumed-role/switchboard-fuzz-reviewer/dana'),
      fc.constant(undefined),
      trickyString,
    ),
  })
  .map((g) => {
    const reviewId = 'pending' in g.reviewId ? (pendingReviews[g.reviewId.pending] ?? 'rev_none') : g.reviewId.id;
    const event = eventOf({
      ...g.route,
      ...g.body,
      base64: g.base64,
      headers: g.headers as Record<string, string> | undefined,
      pathParameters: g.route.resource.includes('{reviewId}') ? { reviewId } : null,
      query: g.query as Record<string, string> | null,
      userArn: g.userArn,
    });
    return { event, describe: `${event.httpMethod} ${event.resource}` };
  });

// ---------------------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------------------

const STACK_TRACE = /\n\s+at\s|\bat [\w$.<>]+ \(|node_modules|\/var\/task|\.js:\d+|\.ts:\d+/;

async function withDeadline<T>(p: Promise<T>, ms: number): Promise<T | 'hang'> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((resolve) => {
    timer = setTimeout(() => resolve('hang'), ms);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Runs one request; returns what is wrong with the answer (empty when nothing is). */
async function check(handler: ProxyHandler, req: GeneratedRequest): Promise<string[]> {
  const writesBefore = proxy.log.filter((l) => WRITE_OPERATIONS.has(l.operation)).length;
  const modelCallsBefore = bedrock.calls.length;
  const executionsBefore = sfn.apiCalls.length;
  const res = await withDeadline<APIGatewayProxyResult>(handler(req.event, lambdaContext()), HANG_MS);
  if (res === 'hang') return [`no answer within ${HANG_MS} ms`];
  const problems: string[] = [];
  const status = res.statusCode;
  if (!(status >= 200 && status < 300) && !(status >= 400 && status < 500)) problems.push(`status ${status}`);
  if (typeof res.body !== 'string') return [...problems, 'body is not a string'];
  if (STACK_TRACE.test(res.body)) problems.push('the body shows a stack trace or file path');
  const contentType = Object.entries(res.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  if (status < 300 && contentType !== 'application/json') {
    // A download (the review export is JSON Lines): every line is JSON.
    const bad = res.body.split('\n').filter((l) => l && !isJson(l)).length;
    return bad ? [...problems, `${bad} line(s) of the ${String(contentType)} body are not JSON`] : problems;
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    return [...problems, 'the body is not JSON'];
  }
  if (status >= 400) {
    const err = body.error as { code?: string; message?: unknown } | undefined;
    const code = err?.code;
    if (!code || !(code in ERROR_CODES)) problems.push(`error code ${JSON.stringify(code)} is not a stable code`);
    else if (ERROR_CODES[code as keyof typeof ERROR_CODES] !== status) {
      problems.push(`code ${code} answers ${status}, the table says ${ERROR_CODES[code as keyof typeof ERROR_CODES]}`);
    }
    if (typeof err?.message !== 'string' || err.message.length < 5) problems.push('no actionable message');
    if (code && REVIEW_REFUSALS.has(code)) {
      // Refused by the review caps after the model answered: charged, so recorded exactly once; no workflow.
      if (sfn.apiCalls.length !== executionsBefore) problems.push(`a ${code} called Step Functions`);
      problems.push(...(await recordProblems((body.error as { requestId?: unknown }).requestId)));
      stats.charged++;
      return problems;
    }
    stats.refused++;
    const writes = proxy.log.filter((l) => WRITE_OPERATIONS.has(l.operation)).length - writesBefore;
    if (writes) problems.push(`a ${status} wrote ${writes} time(s)`);
    if (bedrock.calls.length !== modelCallsBefore) problems.push(`a ${status} called a model`);
    if (sfn.apiCalls.length !== executionsBefore) problems.push(`a ${status} called Step Functions`);
  } else if (req.event.resource === '/v1/inference' && req.event.httpMethod === 'POST') {
    problems.push(...(await recordProblems(body.requestId)));
    stats.accepted++;
  }
  return problems;
}

/** What is wrong with the ledger record of an accepted request (it must exist). */
async function recordProblems(requestId: unknown): Promise<string[]> {
  if (typeof requestId !== 'string') return ['an accepted request has no requestId'];
  const item = await dynalite.dynamo.send(
    new GetItemCommand({ TableName: table, Key: marshall(requestKey(requestId)), ConsistentRead: true }),
  );
  return item.Item ? [] : [`accepted request ${requestId} has no ledger record`];
}

/** How the generated requests ended (so a generator that never reaches the model fails the test). */
const stats = { accepted: 0, refused: 0, charged: 0 };

async function runProperty(handler: ProxyHandler, arb: fc.Arbitrary<GeneratedRequest>, numRuns: number) {
  const failures: string[] = [];
  const result = await fc.check(
    fc.asyncProperty(arb, async (req) => {
      const problems = await check(handler, req);
      if (problems.length) {
        failures.push(`${req.describe}: ${problems.join('; ')}`);
        return false;
      }
      return true;
    }),
    { numRuns, seed: SEED, endOnFailure: false, interruptAfterTimeLimit: 240_000 },
  );
  if (result.failed) {
    const example = result.counterexample?.[0] as GeneratedRequest | undefined;
    const shown = example
      ? JSON.stringify(
          {
            ...example.event,
            body: example.event.body?.slice(0, 2_000),
            ...(example.event.isBase64Encoded && example.event.body
              ? { decodedBody: Buffer.from(example.event.body, 'base64').toString('utf8').slice(0, 2_000) }
              : {}),
          },
          (_k, v) => (typeof v === 'string' && v.length > 300 ? `${v.slice(0, 300)}…(${v.length})` : v),
          1,
        )
      : String(result.errorInstance);
    throw new Error(
      `${failures.at(-1) ?? 'property failed'} (seed ${result.seed}, path ${result.counterexamplePath}, after ${result.numRuns} runs and ${result.numShrinks} shrinks)\n` +
        `minimal request:\n${shown}\nhandler output (last lines):\n${captured.slice(-20).join('')}`,
    );
  }
  return result;
}

describe('generated requests against the packaged handlers', () => {
  it(`inference: ${INFERENCE_RUNS} generated requests each get a 2xx or a 4xx with a stable code; a 4xx writes nothing and calls no model; nothing answers 5xx, hangs or shows a stack`, async () => {
    bedrock.scriptDefault({ kind: 'answer', text: 'Paris is the capital of France. Confidence: 0.9' });
    Object.assign(stats, { accepted: 0, refused: 0, charged: 0 });
    const result = await runProperty(inference, inferenceRequest, INFERENCE_RUNS);
    expect(result.numRuns).toBe(INFERENCE_RUNS);
    // Both sides were exercised: a good share reached the model and the ledger, a good share was refused.
    expect(stats.accepted).toBeGreaterThan(INFERENCE_RUNS / 5);
    expect(stats.refused).toBeGreaterThan(INFERENCE_RUNS / 5);
  }, 300_000);

  it(`review API: ${REVIEW_RUNS} generated requests (routes, ids, bodies, queries, callers) each get a 2xx or a 4xx with a stable code; a 4xx writes nothing`, async () => {
    const result = await runProperty(reviewApi, reviewRequest, REVIEW_RUNS);
    expect(result.numRuns).toBe(REVIEW_RUNS);
  }, 300_000);
});
