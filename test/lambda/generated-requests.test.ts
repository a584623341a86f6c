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
 * The same generated inference requests also go to the pooled function of a pool cell as CDK would package it
 * (test/support/pooled-bundle.ts, on the local pool cell of test/support/pool-cell.ts: tenants onboarded through the
 * control plane, STS sessions, the IAM gate). The tenant is the authorizer's, set by the test and never by the
 * generator; the generator names other tenants in body fields, metadata, headers, path parameters, paths and query
 * strings. Besides the properties above (a refusal may count the caller's own admission item, nothing else): every
 * write lands under the caller's `T#<tenant>#` prefix, signed with the caller's session, and the IAM gate refuses
 * nothing; a 2xx request view is one of the caller's own records.
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
import { poolKeyScope } from '../../lambda/shared/key-scope';
import { LEDGER_KEYS, requestKey } from '../../lambda/shared/ledger-schema';
import { tenantOfPoolKey } from '../../lambda/shared/pool-keys';
import { BedrockStub } from '../support/bedrock-stub';
import { lambdaContext, loadBundledModule, type ProxyHandler, proxyEvent } from '../support/bundled-handler';
import { DynaliteServer } from '../support/dynalite-server';
import { type DynamoCall, DynamoFaultProxy } from '../support/dynamo-fault-proxy';
import { KmsStandIn } from '../support/kms-standin';
import { BundledPoolCell } from '../support/pooled-bundle';
import { definitionFromTemplate, SfnStandIn } from '../support/sfn-standin';
import { logicalIdOf, synthSwitchboard, tenantDir } from '../support/synth';

const SEED = Number(process.env.FC_SEED ?? 20261202);
const INFERENCE_RUNS = Number(process.env.FC_RUNS ?? 1_000);
const REVIEW_RUNS = Number(process.env.FC_RUNS ?? 400);
const POOLED_RUNS = Number(process.env.FC_RUNS ?? 500);
/** A request that takes longer than this is a hang (the stand-ins answer in milliseconds). */
const HANG_MS = 15_000;

const WRITE_OPERATIONS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/** The pooled run's caller (the authorizer's tenant of every request), and its neighbour in the same cell. */
const POOL_CALLER = 'gen-caller';
const POOL_NEIGHBOUR = 'gen-neighbour';

const dynalite = new DynaliteServer();
const bedrock = new BedrockStub();
const kms = new KmsStandIn();
const sfn = new SfnStandIn();
/** One handler under test, and what its DynamoDB calls may be. */
interface Target {
  readonly name: string;
  readonly call: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
  /** Every DynamoDB call of the handler so far (body included), in order. */
  readonly calls: readonly DynamoCall[];
  /** The ledger table, and the key of a request's record in it. */
  readonly table: string;
  readonly recordKey: (requestId: string) => Record<string, string>;
  /** A write a refusal (4xx) may still make: a pooled tenant's own admission counter, counted before the route. */
  readonly refusalMayWrite: (call: DynamoCall) => boolean;
  /** What is wrong with the DynamoDB calls one request made (pooled: whose items, whose session, the IAM gate). */
  readonly callProblems: (calls: readonly DynamoCall[]) => string[];
}
let silo: Target;
let reviewTarget: Target;
let proxy: DynamoFaultProxy;
let inference: ProxyHandler;
let reviewApi: ProxyHandler;
let table: string;
/** Every DynamoDB call the silo handlers made, with its body (the proxy's observer). */
const siloCalls: DynamoCall[] = [];
/**
 * Request ids the generator may name in `GET /v1/requests/{requestId}` (by index): the silo's own requests, or in
 * the pooled run the neighbour's requests and one of the caller's own.
 */
const namedRequestIds: string[] = [];
/** Reviews the flow left waiting for a decision (some of the generated decisions land on them). */
const pendingReviews: string[] = [];
/** The silo tenant's requests seeded in beforeAll (each waiting for review). */
const siloRequestIds: string[] = [];
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
  proxy.observer = (call) => void siloCalls.push(call);
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
    const body = JSON.parse(res.body) as { reviewId?: string; requestId?: string };
    if (res.statusCode !== 202 || !body.reviewId || !body.requestId) {
      throw new Error(`seeding a review failed: ${res.body}`);
    }
    await sfn.waitingFor(body.reviewId);
    pendingReviews.push(body.reviewId);
    siloRequestIds.push(body.requestId);
  }
  bedrock.reset();
  silo = {
    name: 'silo',
    call: (event) => inference(event, lambdaContext()),
    calls: siloCalls,
    table,
    recordKey: (requestId) => requestKey(requestId),
    refusalMayWrite: () => false,
    callProblems: () => [],
  };
  reviewTarget = { ...silo, name: 'review API', call: (event) => reviewApi(event, lambdaContext()) };
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

/**
 * Ids a request may name as its tenant: the pooled run's neighbour (its items are in the same table), the caller
 * itself, a tenant never onboarded, the silo tenant, and look-alikes of a pooled key prefix or an IAM wildcard.
 */
const CLAIMED_TENANTS = [
  POOL_NEIGHBOUR,
  POOL_CALLER,
  'never-onboarded',
  'fuzz',
  'GEN-NEIGHBOUR',
  `T#${POOL_NEIGHBOUR}#`,
  `${POOL_NEIGHBOUR}#REQ#x`,
  '*',
  '',
];
/** Where a request names a tenant, and under which name. */
const tenantClaim = fc.record({
  // A tenant field in the body is refused (unknown field); the other places leave the request valid.
  where: fc.oneof(
    { weight: 1, arbitrary: fc.constant('body') },
    { weight: 5, arbitrary: fc.constantFrom('metadata', 'header', 'pathParameter', 'path', 'query') },
  ),
  name: fc.constantFrom('tenantId', 'tenant', 'tenant_id', 'x-tenant-id', 'x-switchboard-tenant', 'TenantId'),
  value: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...CLAIMED_TENANTS) },
    { weight: 1, arbitrary: trickyString },
  ),
});
type TenantClaim = typeof tenantClaim extends fc.Arbitrary<infer T> ? T : never;

/** The parts of an event `claims` add to (body and metadata only when the body is a JSON object). */
function withClaims(
  claims: readonly TenantClaim[],
  parts: {
    resource: string;
    body?: unknown;
    raw?: string;
    headers?: Record<string, string>;
    pathParameters: Record<string, string> | null;
    query: Record<string, string> | null;
  },
) {
  if (!claims.length) return { ...parts, path: undefined };
  const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  let body = isObject(parts.body) ? { ...parts.body } : parts.body;
  let headers = parts.headers;
  let pathParameters = parts.pathParameters;
  let query = parts.query;
  let path: string | undefined;
  for (const c of claims) {
    if (c.where === 'body' && isObject(body)) {
      Object.defineProperty(body, c.name, { value: c.value, enumerable: true, writable: true });
    } else if (c.where === 'metadata' && isObject(body)) {
      body = { ...body, metadata: { ...(isObject(body.metadata) ? body.metadata : {}), [c.name]: c.value } };
    } else if (c.where === 'header') headers = { ...headers, [c.name]: c.value };
    else if (c.where === 'pathParameter') pathParameters = { ...pathParameters, [c.name]: c.value };
    else if (c.where === 'query') query = { ...query, [c.name]: c.value };
    else if (c.where === 'path') path = `/tenants/${c.value}${parts.resource}`;
  }
  return { ...parts, body, headers, pathParameters, query, path };
}

interface GeneratedRequest {
  readonly event: APIGatewayProxyEvent;
  readonly describe: string;
  /** How many times the request names a tenant (inference requests). */
  readonly claims?: number;
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
      { weight: 5, arbitrary: validInference.map((b) => ({ body: b as unknown })) },
      { weight: 4, arbitrary: inferenceLike.map((b) => ({ body: b as unknown })) },
      { weight: 2, arbitrary: anyJson.map((b) => ({ body: b })) },
      { weight: 2, arbitrary: rawBody.map((raw) => ({ raw })) },
      { weight: 1, arbitrary: fc.constant({}) },
    ),
    // One in six bodies base64-encoded (shrinks towards plain text).
    base64: fc.integer({ min: 0, max: 5 }).map((n) => n === 5),
    // Most requests carry the headers a client sends; one in five carries generated header tricks.
    headers: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: headers }),
    requestId: fc.oneof(
      fc.stringMatching(/^req_[a-z0-9]{8,26}$/),
      trickyString,
      fc.integer({ min: 0, max: 3 }).map((named) => ({ named })),
    ),
    query: fc.option(fc.dictionary(keyName, trickyString, { maxKeys: 3 }), { nil: null }),
    // Two in five requests name a tenant somewhere (the pooled function must read none of them).
    claims: fc.oneof(
      { weight: 3, arbitrary: fc.constant([]) },
      { weight: 2, arbitrary: fc.array(tenantClaim, { minLength: 1, maxLength: 3 }) },
    ),
  })
  .map((g) => {
    const requestId =
      typeof g.requestId === 'string' ? g.requestId : (namedRequestIds[g.requestId.named] ?? 'req_none');
    const parts = withClaims(g.claims, {
      resource: g.route.resource,
      ...g.body,
      headers: g.headers as Record<string, string> | undefined,
      pathParameters: g.route.resource === '/v1/requests/{requestId}' ? { requestId } : null,
      query: g.query,
    });
    const event = eventOf({ ...g.route, ...parts, base64: g.base64 });
    return { event, describe: `${event.httpMethod} ${event.path}`, claims: g.claims.length };
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
async function check(target: Target, req: GeneratedRequest): Promise<string[]> {
  const callsBefore = target.calls.length;
  const modelCallsBefore = bedrock.calls.length;
  const executionsBefore = sfn.apiCalls.length;
  const res = await withDeadline<APIGatewayProxyResult>(target.call(req.event), HANG_MS);
  if (res === 'hang') return [`no answer within ${HANG_MS} ms`];
  const calls = target.calls.slice(callsBefore);
  const problems = target.callProblems(calls);
  problems.push(...(await answerProblems(target, req, res, calls, modelCallsBefore, executionsBefore)));
  return problems;
}

async function answerProblems(
  target: Target,
  req: GeneratedRequest,
  res: APIGatewayProxyResult,
  calls: readonly DynamoCall[],
  modelCallsBefore: number,
  executionsBefore: number,
): Promise<string[]> {
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
      problems.push(...(await recordProblems(target, (body.error as { requestId?: unknown }).requestId)));
      stats.charged++;
      return problems;
    }
    stats.refused++;
    if (req.claims) stats.claimedRefused++;
    const writes = calls.filter((c) => WRITE_OPERATIONS.has(c.operation) && !target.refusalMayWrite(c)).length;
    if (writes) problems.push(`a ${status} wrote ${writes} time(s)`);
    if (bedrock.calls.length !== modelCallsBefore) problems.push(`a ${status} called a model`);
    if (sfn.apiCalls.length !== executionsBefore) problems.push(`a ${status} called Step Functions`);
  } else if (req.event.resource === '/v1/inference' && req.event.httpMethod === 'POST') {
    problems.push(...(await recordProblems(target, body.requestId)));
    stats.accepted++;
    if (req.claims) stats.claimedAccepted++;
  } else if (req.event.resource === '/v1/requests/{requestId}') {
    // A request view is of a record in the caller's own ledger (pooled: never the neighbour's).
    problems.push(...(await recordProblems(target, body.requestId)));
  }
  return problems;
}

/** What is wrong with the ledger record of an accepted request (it must exist). */
async function recordProblems(target: Target, requestId: unknown): Promise<string[]> {
  if (typeof requestId !== 'string') return ['an accepted request has no requestId'];
  const item = await dynalite.dynamo.send(
    new GetItemCommand({
      TableName: target.table,
      Key: marshall(target.recordKey(requestId)),
      ConsistentRead: true,
    }),
  );
  return item.Item ? [] : [`accepted request ${requestId} has no ledger record`];
}

/** How the generated requests ended (so a generator that never reaches the model fails the test). */
const stats = { accepted: 0, refused: 0, charged: 0, claimedAccepted: 0, claimedRefused: 0 };

async function runProperty(target: Target, arb: fc.Arbitrary<GeneratedRequest>, numRuns: number) {
  const failures: string[] = [];
  const result = await fc.check(
    fc.asyncProperty(arb, async (req) => {
      const problems = await check(target, req);
      if (problems.length) {
        failures.push(`${target.name} ${req.describe}: ${problems.join('; ')}`);
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
    Object.assign(stats, { accepted: 0, refused: 0, charged: 0, claimedAccepted: 0, claimedRefused: 0 });
    namedRequestIds.splice(0, namedRequestIds.length, ...siloRequestIds);
    const result = await runProperty(silo, inferenceRequest, INFERENCE_RUNS);
    expect(result.numRuns).toBe(INFERENCE_RUNS);
    // Both sides were exercised: a good share reached the model and the ledger, a good share was refused.
    expect(stats.accepted).toBeGreaterThan(INFERENCE_RUNS / 5);
    expect(stats.refused).toBeGreaterThan(INFERENCE_RUNS / 5);
  }, 300_000);

  it(`review API: ${REVIEW_RUNS} generated requests (routes, ids, bodies, queries, callers) each get a 2xx or a 4xx with a stable code; a 4xx writes nothing`, async () => {
    const result = await runProperty(reviewTarget, reviewRequest, REVIEW_RUNS);
    expect(result.numRuns).toBe(REVIEW_RUNS);
  }, 300_000);

  // Last: starting the cell sets the pooled function's environment (SDK endpoints, credentials) in this process,
  // which the silo handlers above have read already.
  describe('the pooled function of a pool cell, as tenant gen-caller', () => {
    const POOL_GUARDRAIL = { arn: 'arn:aws:bedrock:us-east-1:111111111111:guardrail/genplan', version: '1' };
    let cell: BundledPoolCell;
    let pooled: Target;
    const poolCalls: DynamoCall[] = [];
    const deniedCalls = new WeakSet<DynamoCall>();
    /** The requests seeded before the run: the neighbour's two, then one of the caller's. */
    const seeded: string[] = [];

    beforeAll(async () => {
      cell = new BundledPoolCell(dynalite, {
        bedrockEndpoint: bedrock.endpoint,
        guardrails: { basic: POOL_GUARDRAIL, standard: POOL_GUARDRAIL, premium: POOL_GUARDRAIL },
        name: 'gen-cell',
      });
      await cell.start();
      cell.proxy.observer = (call, outcome) => {
        poolCalls.push(call);
        if (outcome === 'denied') deniedCalls.add(call);
      };
      // Limits no run reaches: the property is about tenancy, admission has tests of its own.
      const limits = {
        throttle: { rateLimit: 1_000, burstLimit: 5_000 },
        quota: { limit: 10_000_000, period: 'MONTH' },
      };
      for (const id of [POOL_CALLER, POOL_NEIGHBOUR]) {
        await cell.cell.onboard({ id, plan: 'standard', monthlyBudgetUsd: 100_000, ...limits });
      }
      bedrock.scriptDefault({ kind: 'answer', text: 'Seeded. Confidence: 0.9' });
      for (const tenant of [POOL_NEIGHBOUR, POOL_NEIGHBOUR, POOL_CALLER]) {
        const res = await cell.handle(
          tenant,
          proxyEvent({
            method: 'POST',
            resource: '/v1/inference',
            body: { prompt: `Seeded for ${tenant}`, tier: 'fast' },
          }),
          lambdaContext(),
        );
        const body = JSON.parse(res.body) as { requestId?: string };
        if (res.statusCode !== 200 || !body.requestId) throw new Error(`seeding ${tenant} failed: ${res.body}`);
        seeded.push(body.requestId);
      }
      bedrock.reset();
      const prefix = `T#${POOL_CALLER}#`;
      pooled = {
        name: 'pooled',
        call: (event) => cell.handle(POOL_CALLER, event, lambdaContext()),
        calls: poolCalls,
        table: cell.cell.ledgerTable,
        recordKey: (requestId) => requestKey(requestId, poolKeyScope(POOL_CALLER)),
        refusalMayWrite: (c) => c.operation === 'UpdateItem' && writtenKeys(c).every((k) => k.pk === `${prefix}ADMIT`),
        callProblems: (calls) => {
          const problems: string[] = [];
          for (const c of calls) {
            if (deniedCalls.has(c)) problems.push(`the IAM gate refused a ${c.operation}`);
            if (!WRITE_OPERATIONS.has(c.operation)) continue;
            const signer = cell.cell.tenantTagOf(c);
            if (signer !== POOL_CALLER) problems.push(`a ${c.operation} signed as ${signer ?? 'no tenant session'}`);
            for (const k of writtenKeys(c)) {
              if (k.table !== cell.cell.ledgerTable) problems.push(`a ${c.operation} on table ${k.table}`);
              if (!k.pk.startsWith(prefix)) {
                problems.push(`a ${c.operation} of ${k.pk} (tenant ${tenantOfPoolKey(k.pk) ?? 'none'})`);
              }
            }
          }
          return problems;
        },
      };
    }, 120_000);

    afterAll(async () => {
      await cell?.stop();
    });

    it(`inference: ${POOLED_RUNS} generated requests, some naming another tenant in the body, metadata, headers, path or query, get what a silo tenant gets; every write is the caller's, in its session; the IAM gate refuses nothing`, async () => {
      bedrock.scriptDefault({ kind: 'answer', text: 'Paris is the capital of France. Confidence: 0.9' });
      Object.assign(stats, { accepted: 0, refused: 0, charged: 0, claimedAccepted: 0, claimedRefused: 0 });
      namedRequestIds.splice(0, namedRequestIds.length, ...seeded);
      const neighbourBefore = await cell.cell.itemsOf(POOL_NEIGHBOUR);
      const result = await runProperty(pooled, inferenceRequest, POOLED_RUNS);
      expect(result.numRuns).toBe(POOLED_RUNS);
      expect(stats.accepted).toBeGreaterThan(POOLED_RUNS / 5);
      expect(stats.refused).toBeGreaterThan(POOLED_RUNS / 5);
      // Requests naming another tenant were both served (as the caller) and refused.
      expect(stats.claimedAccepted).toBeGreaterThan(POOLED_RUNS / 20);
      expect(stats.claimedRefused).toBeGreaterThan(POOLED_RUNS / 20);
      expect(cell.cell.denied).toEqual([]);
      expect(await cell.cell.itemsOf(POOL_NEIGHBOUR)).toEqual(neighbourBefore);
      // Every item of the table is the caller's or the neighbour's seeded ones.
      const owners = new Set((await cell.cell.allItems()).map((i) => tenantOfPoolKey(String(i.pk))));
      expect([...owners].sort()).toEqual([POOL_CALLER, POOL_NEIGHBOUR]);
    }, 300_000);
  });
});

/** The tables and partition keys a write call names (every item of a batch or transaction). */
function writtenKeys(call: DynamoCall): Array<{ table: string; pk: string }> {
  type Key = Record<string, { S?: string }> | undefined;
  type Target = { TableName?: string; Item?: Key; Key?: Key };
  const pkOf = (k: Key) => k?.[LEDGER_KEYS.partitionKey]?.S ?? '(no partition key)';
  const one = (t: Target | undefined) => ({ table: String(t?.TableName), pk: pkOf(t?.Item ?? t?.Key) });
  const b = call.body as Target & {
    RequestItems?: Record<string, Array<{ PutRequest?: { Item: Key }; DeleteRequest?: { Key: Key } }>>;
    TransactItems?: Array<{ Put?: Target; Update?: Target; Delete?: Target; ConditionCheck?: Target }>;
  };
  if (call.operation === 'BatchWriteItem') {
    return Object.entries(b.RequestItems ?? {}).flatMap(([table, requests]) =>
      requests.map((r) => ({ table, pk: pkOf(r.PutRequest?.Item ?? r.DeleteRequest?.Key) })),
    );
  }
  if (call.operation === 'TransactWriteItems') {
    return (b.TransactItems ?? []).map((t) => one(t.Put ?? t.Update ?? t.Delete ?? t.ConditionCheck));
  }
  return [one(b)];
}
