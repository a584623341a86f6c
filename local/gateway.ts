/**
 * API Gateway (REST, Lambda proxy) on loopback, built from a synthesized template rather than a second copy of the
 * routes: the `AWS::ApiGateway::*` resources of one RestApi give its stage, resource paths and methods, which
 * methods need an API key (checked against the keys of the template's ApiKey resources) or IAM (locally: the sandbox
 * token as `Authorization: Bearer <token>`, nothing else), the Lambda authorizer (run from its bundle, its result
 * cached for the template's TTL), the request validators and JSON-schema models (validated with Ajv, the validator
 * asl-validator brings), the usage plan's throttle and quota, and the gateway responses (status, headers and
 * template) for every refusal. A matching request becomes a Lambda proxy event for the method's function.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TemplateJson } from './template';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are plain JSON
type Json = any;

/** The largest body API Gateway accepts (10 MB); a larger one is refused without reading further. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** A method of the API, as the template declares it. */
export interface MethodSpec {
  readonly logicalId: string;
  readonly httpMethod: string;
  /** The resource path with its parameters, e.g. `/v1/requests/{requestId}`. */
  readonly resourcePath: string;
  readonly authorizationType: string;
  readonly apiKeyRequired: boolean;
  readonly authorizerId?: string;
  readonly validatorId?: string;
  /** Content type → model logical id. */
  readonly requestModels: Record<string, string>;
  /** `method.request.path.x` (etc.) → required. */
  readonly requestParameters: Record<string, boolean>;
  /** The Lambda function the proxy integration calls (logical id); absent for other integrations. */
  readonly functionId?: string;
  readonly timeoutMs: number;
}

export interface AuthorizerSpec {
  readonly logicalId: string;
  readonly type: string;
  readonly functionId: string;
  readonly identitySource: string[];
  readonly ttlSeconds: number;
}

export interface GatewayResponseSpec {
  readonly statusCode?: number;
  readonly headers: Record<string, string>;
  readonly template?: string;
}

export interface UsagePlanSpec {
  readonly throttle?: { rateLimit: number; burstLimit: number };
  readonly quota?: { limit: number; period: string };
  /** ApiKey logical ids bound to the plan. */
  readonly keyIds: string[];
}

/** One RestApi of a template. */
export interface RestApiSpec {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly stage: string;
  readonly methods: readonly MethodSpec[];
  readonly authorizers: ReadonlyMap<string, AuthorizerSpec>;
  readonly validators: ReadonlyMap<string, { body: boolean; parameters: boolean }>;
  readonly models: ReadonlyMap<string, Json>;
  readonly responses: ReadonlyMap<string, GatewayResponseSpec>;
  /** ApiKey logical ids of this API's stage (with their template `Value`, if any). */
  readonly apiKeys: ReadonlyMap<string, string | undefined>;
  readonly usagePlans: readonly UsagePlanSpec[];
}

const refOf = (v: Json): string | undefined => (v && typeof v.Ref === 'string' ? v.Ref : undefined);

/** The function logical id named by a `Fn::GetAtt [fn, Arn]` anywhere inside a value (an integration URI). */
function functionIdIn(v: Json): string | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const getAtt = v['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[1] === 'Arn') return String(getAtt[0]);
  for (const x of Array.isArray(v) ? v : Object.values(v)) {
    const found = functionIdIn(x);
    if (found) return found;
  }
  return undefined;
}

/** The RestApis of a template. */
export function readRestApis(template: TemplateJson, stackName: string): RestApiSpec[] {
  const R = template.Resources;
  const of = (type: string) => Object.entries(R).filter(([, r]) => r.Type === type) as Array<[string, Json]>;
  return of('AWS::ApiGateway::RestApi').map(([apiId, api]) => {
    const mine = (r: Json) => refOf(r.Properties?.RestApiId) === apiId;
    const resourcePath = new Map<string, string>();
    const resources = new Map(of('AWS::ApiGateway::Resource').filter(([, r]) => mine(r)));
    const pathOf = (id: string | undefined, depth = 0): string => {
      if (!id || depth > 64) return '';
      const known = resourcePath.get(id);
      if (known !== undefined) return known;
      const r = resources.get(id);
      if (!r) return '';
      const parent = r.Properties.ParentId;
      const p = `${parent?.['Fn::GetAtt'] ? '' : pathOf(refOf(parent), depth + 1)}/${r.Properties.PathPart}`;
      resourcePath.set(id, p);
      return p;
    };
    const methods: MethodSpec[] = of('AWS::ApiGateway::Method')
      .filter(([, m]) => mine(m))
      .map(([id, m]) => {
        const p = m.Properties;
        const resId = p.ResourceId;
        const integration = p.Integration ?? {};
        return {
          logicalId: id,
          httpMethod: String(p.HttpMethod).toUpperCase(),
          resourcePath: resId?.['Fn::GetAtt'] ? '/' : pathOf(refOf(resId)),
          authorizationType: String(p.AuthorizationType ?? 'NONE'),
          apiKeyRequired: p.ApiKeyRequired === true,
          ...(refOf(p.AuthorizerId) ? { authorizerId: refOf(p.AuthorizerId) } : {}),
          ...(refOf(p.RequestValidatorId) ? { validatorId: refOf(p.RequestValidatorId) } : {}),
          requestModels: Object.fromEntries(
            Object.entries((p.RequestModels ?? {}) as Record<string, Json>).map(([ct, v]) => [ct, refOf(v) ?? v]),
          ),
          requestParameters: { ...(p.RequestParameters ?? {}) },
          ...(integration.Type === 'AWS_PROXY' ? { functionId: functionIdIn(integration.Uri) } : {}),
          timeoutMs: Number(integration.TimeoutInMillis ?? 29_000),
        };
      });
    const stage = of('AWS::ApiGateway::Stage').find(([, s]) => mine(s));
    const authorizers = new Map<string, AuthorizerSpec>();
    for (const [id, a] of of('AWS::ApiGateway::Authorizer').filter(([, r]) => mine(r))) {
      authorizers.set(id, {
        logicalId: id,
        type: String(a.Properties.Type),
        functionId: functionIdIn(a.Properties.AuthorizerUri) ?? '',
        identitySource: String(a.Properties.IdentitySource ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        ttlSeconds: Number(a.Properties.AuthorizerResultTtlInSeconds ?? 300),
      });
    }
    const validators = new Map(
      of('AWS::ApiGateway::RequestValidator')
        .filter(([, r]) => mine(r))
        .map(([id, v]) => [
          id,
          {
            body: v.Properties.ValidateRequestBody === true,
            parameters: v.Properties.ValidateRequestParameters === true,
          },
        ]),
    );
    const models = new Map(
      of('AWS::ApiGateway::Model')
        .filter(([, r]) => mine(r))
        .map(([id, m]) => [id, m.Properties.Schema]),
    );
    const responses = new Map<string, GatewayResponseSpec>();
    for (const [, g] of of('AWS::ApiGateway::GatewayResponse').filter(([, r]) => mine(r))) {
      const p = g.Properties;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries((p.ResponseParameters ?? {}) as Record<string, string>)) {
        const m = /^gatewayresponse\.header\.(.+)$/.exec(k);
        if (m && typeof v === 'string') headers[m[1]!] = v.replace(/^'(.*)'$/, '$1');
      }
      responses.set(String(p.ResponseType), {
        ...(p.StatusCode ? { statusCode: Number(p.StatusCode) } : {}),
        headers,
        ...(p.ResponseTemplates?.['application/json'] ? { template: p.ResponseTemplates['application/json'] } : {}),
      });
    }
    const stageId = stage?.[0];
    const apiKeys = new Map<string, string | undefined>();
    for (const [id, k] of of('AWS::ApiGateway::ApiKey')) {
      const keys = (k.Properties?.StageKeys ?? []) as Json[];
      if (keys.some((s) => refOf(s.RestApiId) === apiId)) apiKeys.set(id, k.Properties?.Value);
    }
    const usagePlans: UsagePlanSpec[] = [];
    for (const [planId, plan] of of('AWS::ApiGateway::UsagePlan')) {
      const stages = (plan.Properties?.ApiStages ?? []) as Json[];
      if (!stages.some((s) => refOf(s.ApiId) === apiId)) continue;
      const keyIds = of('AWS::ApiGateway::UsagePlanKey')
        .filter(([, k]) => refOf(k.Properties?.UsagePlanId) === planId)
        .map(([, k]) => refOf(k.Properties?.KeyId))
        .filter((x): x is string => x !== undefined);
      for (const id of keyIds) if (!apiKeys.has(id)) apiKeys.set(id, R[id]?.Properties?.Value as string | undefined);
      const t = plan.Properties?.Throttle;
      const q = plan.Properties?.Quota;
      usagePlans.push({
        ...(t?.RateLimit !== undefined
          ? { throttle: { rateLimit: t.RateLimit, burstLimit: t.BurstLimit ?? t.RateLimit } }
          : {}),
        ...(q?.Limit !== undefined ? { quota: { limit: q.Limit, period: String(q.Period ?? 'MONTH') } } : {}),
        keyIds: keyIds.length > 0 ? keyIds : [...apiKeys.keys()],
      });
    }
    return {
      stackName,
      logicalId: apiId,
      name: String(api.Properties?.Name ?? apiId),
      stage: String(stage?.[1]?.Properties?.StageName ?? stageId ?? 'live'),
      methods,
      authorizers,
      validators,
      models,
      responses,
      apiKeys,
      usagePlans,
    };
  });
}

/** The status API Gateway answers a response type with when the template does not say. */
const DEFAULT_STATUS: Record<string, number> = {
  ACCESS_DENIED: 403,
  API_CONFIGURATION_ERROR: 500,
  AUTHORIZER_CONFIGURATION_ERROR: 500,
  AUTHORIZER_FAILURE: 500,
  BAD_REQUEST_PARAMETERS: 400,
  BAD_REQUEST_BODY: 400,
  EXPIRED_TOKEN: 403,
  INTEGRATION_FAILURE: 504,
  INTEGRATION_TIMEOUT: 504,
  INVALID_API_KEY: 403,
  INVALID_SIGNATURE: 403,
  MISSING_AUTHENTICATION_TOKEN: 403,
  QUOTA_EXCEEDED: 429,
  REQUEST_TOO_LARGE: 413,
  RESOURCE_NOT_FOUND: 404,
  THROTTLED: 429,
  UNAUTHORIZED: 401,
  UNSUPPORTED_MEDIA_TYPE: 415,
};

/** API Gateway's own messages (no gateway response in the template). */
const DEFAULT_MESSAGE: Record<string, string> = {
  ACCESS_DENIED: 'Forbidden',
  INVALID_API_KEY: 'Forbidden',
  MISSING_AUTHENTICATION_TOKEN: 'Missing Authentication Token',
  UNAUTHORIZED: 'Unauthorized',
  THROTTLED: 'Too Many Requests',
  QUOTA_EXCEEDED: 'Limit Exceeded',
  BAD_REQUEST_BODY: 'Invalid request body',
  BAD_REQUEST_PARAMETERS: 'Missing required request parameters',
  REQUEST_TOO_LARGE: 'Request Too Long',
  INTEGRATION_TIMEOUT: 'Endpoint request timed out',
};

/** Draft-04 (what API Gateway models use) to what Ajv 8 reads: boolean exclusive bounds, `id`. */
function fromDraft04(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(fromDraft04);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$schema') continue;
    if (k === 'id' && typeof v === 'string') out.$id = v;
    else if (k === 'properties' || k === 'patternProperties' || k === 'definitions') {
      out[k] = Object.fromEntries(Object.entries(v as object).map(([n, s]) => [n, fromDraft04(s)]));
    } else out[k] = typeof v === 'object' ? fromDraft04(v) : v;
  }
  if (out.exclusiveMaximum === true) {
    out.exclusiveMaximum = out.maximum;
    delete out.maximum;
  } else if (out.exclusiveMaximum === false) delete out.exclusiveMaximum;
  if (out.exclusiveMinimum === true) {
    out.exclusiveMinimum = out.minimum;
    delete out.minimum;
  } else if (out.exclusiveMinimum === false) delete out.exclusiveMinimum;
  return out;
}

type Validate = ((data: unknown) => boolean) & { errors?: Array<{ instancePath?: string; message?: string }> | null };

/** Compiles a model's JSON schema with Ajv (brought by asl-validator; not a direct dependency of its own). */
function compileModel(schema: Json): Validate {
  // biome-ignore lint/suspicious/noExplicitAny: Ajv's constructor, loaded lazily
  const Ajv = (require('ajv') as any).default;
  const ajv = new Ajv({ strict: false, allErrors: false });
  return ajv.compile(fromDraft04(schema));
}

/** What the gateway needs from the sandbox. */
export interface GatewayDeps {
  /** Runs a function (the Lambda proxy integration, the authorizer) with an event. */
  invoke(functionId: string, event: unknown): Promise<unknown>;
  /** The value of each ApiKey resource (logical id → key). */
  readonly apiKeyValues: ReadonlyMap<string, string>;
  /** The token IAM-authorized routes accept (as `Authorization: Bearer <token>`). */
  readonly token: string;
  /** The id this API has locally (`requestContext.apiId`). */
  readonly apiId: string;
  /** The Cognito groups a signed-in sandbox reviewer belongs to (`tenant-<id>` of every tenant). */
  readonly reviewerGroups?: readonly string[];
  /** The origins allowed to call the API from a browser (the review console's), if any. */
  readonly corsOrigins?: readonly string[];
  readonly log?: (line: string) => void;
  readonly now?: () => number;
}

/** The account the sandbox presents its IAM callers in. */
export const SANDBOX_CALLER_ACCOUNT = '111122223333';
/** The header naming the sandbox caller of an IAM-authorized route (default: `operator`). */
export const SANDBOX_USER_HEADER = 'x-sandbox-user';
const USER_NAME = /^[A-Za-z0-9._@+=,-]{1,64}$/;

interface Match {
  readonly method: MethodSpec;
  readonly pathParameters: Record<string, string>;
}

interface CachedPolicy {
  readonly until: number;
  readonly result: Json;
}

class Refusal {
  constructor(
    readonly type: string,
    readonly status?: number,
    readonly errorMessage?: string,
  ) {}
}

/** One RestApi on one loopback port. */
export class LocalGateway {
  private server?: http.Server;
  private readonly validators = new Map<string, Validate>();
  private readonly authCache = new Map<string, CachedPolicy>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly quotaUsed = new Map<string, { period: string; used: number }>();
  private readonly keyPlans = new Map<string, UsagePlanSpec>();
  /** Key value → the ApiKey's logical id (what `requestContext.identity.apiKeyId` names). */
  private readonly validKeys = new Map<string, string>();
  private readonly now: () => number;

  constructor(
    readonly spec: RestApiSpec,
    private readonly deps: GatewayDeps,
  ) {
    this.now = deps.now ?? Date.now;
    for (const id of spec.apiKeys.keys()) {
      const value = deps.apiKeyValues.get(id);
      if (value) this.validKeys.set(value, id);
    }
    for (const plan of spec.usagePlans) {
      for (const id of plan.keyIds) {
        const value = deps.apiKeyValues.get(id);
        if (value) this.keyPlans.set(value, plan);
      }
    }
  }

  /** Listens on `port` (127.0.0.1). Rejects with the listen error (EADDRINUSE) when the port is taken. */
  async listen(port: number): Promise<string> {
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        this.deps.log?.(`gateway error: ${(e as Error).stack}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'Internal server error' }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return this.url;
  }

  /** The base URL of the stage, without a trailing slash. */
  get url(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('gateway not listening');
    return `http://127.0.0.1:${addr.port}/${this.spec.stage}`;
  }

  /** FlushStageAuthorizersCache. */
  flushAuthorizerCache(): void {
    this.authCache.clear();
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private cors(req: http.IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    if (!origin || !this.deps.corsOrigins?.includes(origin)) return {};
    return { 'access-control-allow-origin': origin, 'access-control-expose-headers': 'retry-after', vary: 'Origin' };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const cors = this.cors(req);
    const send = (status: number, headers: Record<string, string>, body: string) => {
      res.writeHead(status, { 'x-amzn-requestid': requestId, ...headers, ...cors });
      res.end(body);
    };
    const refuse = (r: Refusal) => {
      const { status, headers, body } = this.gatewayResponse(r, requestId);
      send(status, headers, body);
    };
    // Browser preflight from the review console (locally only: the console is served from another port).
    if (
      req.method === 'OPTIONS' &&
      cors['access-control-allow-origin'] &&
      req.headers['access-control-request-method']
    ) {
      send(
        204,
        {
          'access-control-allow-methods': 'GET,POST,PUT,PATCH,DELETE',
          'access-control-allow-headers': `authorization,content-type,x-api-key,${SANDBOX_USER_HEADER}`,
          'access-control-max-age': '600',
        },
        '',
      );
      req.resume();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const body = await readBody(req);
    if (body === undefined) return refuse(new Refusal('REQUEST_TOO_LARGE'));
    const stagePrefix = `/${this.spec.stage}`;
    if (url.pathname !== stagePrefix && !url.pathname.startsWith(`${stagePrefix}/`)) {
      return refuse(new Refusal('MISSING_AUTHENTICATION_TOKEN'));
    }
    const path = url.pathname.slice(stagePrefix.length) || '/';
    const match = this.route(req.method ?? 'GET', path);
    if (!match) return refuse(new Refusal('MISSING_AUTHENTICATION_TOKEN'));
    const { method } = match;
    const headers = headersOf(req);
    const query = url.searchParams.size > 0 ? Object.fromEntries(url.searchParams) : null;
    const methodArn = `arn:aws:execute-api:us-east-1:111111111111:${this.deps.apiId}/${this.spec.stage}/${method.httpMethod}${path}`;
    let identity: Json = {
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      userAgent: headers['user-agent'] ?? null,
    };
    let authorizer: Json;
    try {
      if (method.authorizationType === 'AWS_IAM') {
        identity = { ...identity, ...this.iamCaller(headers) };
      } else if (method.authorizationType === 'CUSTOM' && method.authorizerId) {
        authorizer = await this.authorize(method, methodArn, path, headers, query, match.pathParameters, requestId);
      } else if (method.authorizationType === 'COGNITO_USER_POOLS') {
        authorizer = { claims: this.cognitoClaims(headers) };
      }
      let apiKey: string | undefined;
      if (method.apiKeyRequired) {
        apiKey = headers['x-api-key'];
        if (!apiKey || !this.validKeys.has(apiKey)) throw new Refusal('INVALID_API_KEY');
        this.meter(apiKey);
        identity = { ...identity, apiKey, apiKeyId: this.validKeys.get(apiKey) };
      }
      this.validate(method, headers, match.pathParameters, query, body);
    } catch (e) {
      if (e instanceof Refusal) return refuse(e);
      throw e;
    }
    if (!method.functionId) return refuse(new Refusal('API_CONFIGURATION_ERROR'));
    const event = {
      resource: method.resourcePath,
      path,
      httpMethod: method.httpMethod,
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      queryStringParameters: query,
      multiValueQueryStringParameters: query
        ? Object.fromEntries([...url.searchParams.keys()].map((k) => [k, url.searchParams.getAll(k)]))
        : null,
      pathParameters: Object.keys(match.pathParameters).length > 0 ? match.pathParameters : null,
      stageVariables: null,
      requestContext: {
        accountId: '111111111111',
        apiId: this.deps.apiId,
        resourceId: method.logicalId,
        resourcePath: method.resourcePath,
        httpMethod: method.httpMethod,
        path: `${stagePrefix}${path}`,
        stage: this.spec.stage,
        requestId,
        requestTimeEpoch: this.now(),
        protocol: 'HTTP/1.1',
        identity,
        ...(authorizer ? { authorizer } : {}),
      },
      body: body.length > 0 ? body.toString('utf8') : null,
      isBase64Encoded: false,
    };
    let result: Json;
    try {
      result = await withTimeout(this.deps.invoke(method.functionId, event), method.timeoutMs);
    } catch (e) {
      if (e === TIMED_OUT) return refuse(new Refusal('INTEGRATION_TIMEOUT'));
      this.deps.log?.(`${this.spec.name} ${method.httpMethod} ${path}: the function failed: ${(e as Error).message}`);
      return refuse(new Refusal('DEFAULT_5XX', 502));
    }
    if (!result || typeof result !== 'object' || typeof result.statusCode !== 'number') {
      this.deps.log?.(`${this.spec.name} ${method.httpMethod} ${path}: malformed Lambda proxy response`);
      return refuse(new Refusal('DEFAULT_5XX', 502));
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries((result.headers ?? {}) as Record<string, unknown>)) out[k] = String(v);
    for (const [k, v] of Object.entries((result.multiValueHeaders ?? {}) as Record<string, unknown[]>)) {
      if (Array.isArray(v) && v.length > 0) out[k] = v.map(String).join(', ');
    }
    const payload =
      typeof result.body === 'string' ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : '';
    res.writeHead(result.statusCode, { 'x-amzn-requestid': requestId, ...out, ...cors });
    res.end(payload);
  }

  /** The method for a request: literal path segments win over parameters, as in API Gateway. */
  private route(httpMethod: string, path: string): Match | undefined {
    const parts = path.split('/').filter(Boolean);
    let best: { match: Match; score: number } | undefined;
    for (const m of this.spec.methods) {
      if (m.httpMethod !== httpMethod && m.httpMethod !== 'ANY') continue;
      const tpl = m.resourcePath.split('/').filter(Boolean);
      const params: Record<string, string> = {};
      let score = 0;
      let ok = true;
      let greedy = false;
      for (let i = 0; i < tpl.length && ok; i++) {
        const t = tpl[i]!;
        const seg = parts[i];
        if (seg === undefined) {
          ok = false;
          break;
        }
        try {
          if (/^\{.+\+\}$/.test(t)) {
            params[t.slice(1, -2)] = decodeURIComponent(parts.slice(i).join('/'));
            greedy = true;
            break;
          }
          if (/^\{.+\}$/.test(t)) params[t.slice(1, -1)] = decodeURIComponent(seg);
          else if (seg === t) score += 2 ** (32 - i);
          else ok = false;
        } catch {
          ok = false; // a malformed escape
        }
      }
      if (!ok || (!greedy && tpl.length !== parts.length)) continue;
      if (!best || score > best.score) best = { match: { method: m, pathParameters: params }, score };
    }
    return best?.match;
  }

  /** The caller of an IAM-authorized route: the sandbox token in place of SigV4, nothing else. */
  private iamCaller(headers: Record<string, string>): Json {
    const auth = headers.authorization ?? '';
    const m = /^Bearer ([A-Za-z0-9._~+/=-]{1,512})$/.exec(auth);
    if (!m || !timingSafeEqualString(m[1]!, this.deps.token)) throw new Refusal('ACCESS_DENIED');
    const user = headers[SANDBOX_USER_HEADER] ?? 'operator';
    if (!USER_NAME.test(user)) throw new Refusal('ACCESS_DENIED');
    const userArn = `arn:aws:iam::${SANDBOX_CALLER_ACCOUNT}:user/sandbox-${user}`;
    return { userArn, caller: `AIDASANDBOX:${user}`, user: `sandbox-${user}`, accountId: SANDBOX_CALLER_ACCOUNT };
  }

  /**
   * A Cognito user pools authorizer without Cognito: only the sandbox token is a valid sign-in (401 otherwise, as
   * API Gateway answers a missing or invalid token), for a reviewer of every tenant in `deps.reviewerGroups`.
   */
  private cognitoClaims(headers: Record<string, string>): Json {
    const caller = (() => {
      try {
        return this.iamCaller(headers);
      } catch {
        throw new Refusal('UNAUTHORIZED');
      }
    })();
    return {
      sub: caller.user,
      email: String(caller.user),
      iss: 'https://sandbox.local/reviewers',
      'cognito:groups': (this.deps.reviewerGroups ?? []).join(','),
    };
  }

  /** Runs the Lambda authorizer (or takes its cached policy) and checks the policy allows `methodArn`. */
  private async authorize(
    method: MethodSpec,
    methodArn: string,
    path: string,
    headers: Record<string, string>,
    query: Record<string, string> | null,
    pathParameters: Record<string, string>,
    requestId: string,
  ): Promise<Json> {
    const a = this.spec.authorizers.get(method.authorizerId!);
    if (!a) throw new Refusal('AUTHORIZER_CONFIGURATION_ERROR');
    const sources = a.identitySource.map((s) => {
      const h = /^method\.request\.header\.(.+)$/i.exec(s);
      const q = /^method\.request\.querystring\.(.+)$/i.exec(s);
      return h ? headers[h[1]!.toLowerCase()] : q ? query?.[q[1]!] : undefined;
    });
    // API Gateway refuses a request without its identity sources before calling the authorizer.
    if (sources.some((s) => s === undefined || s === '')) throw new Refusal('UNAUTHORIZED');
    const cacheKey = sources.join('\u0000');
    const cached = a.ttlSeconds > 0 ? this.authCache.get(cacheKey) : undefined;
    let result: Json = cached && cached.until > this.now() ? cached.result : undefined;
    if (!result) {
      const event =
        a.type === 'TOKEN'
          ? { type: 'TOKEN', authorizationToken: sources[0], methodArn }
          : {
              type: 'REQUEST',
              methodArn,
              resource: method.resourcePath,
              path,
              httpMethod: method.httpMethod,
              headers,
              multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
              queryStringParameters: query,
              pathParameters,
              stageVariables: null,
              requestContext: {
                apiId: this.deps.apiId,
                stage: this.spec.stage,
                requestId,
                resourcePath: method.resourcePath,
                httpMethod: method.httpMethod,
              },
            };
      try {
        result = await withTimeout(this.deps.invoke(a.functionId, event), 10_000);
      } catch (e) {
        if ((e as Error).message === 'Unauthorized') throw new Refusal('UNAUTHORIZED');
        this.deps.log?.(`authorizer failed: ${(e as Error).message}`);
        throw new Refusal('AUTHORIZER_FAILURE');
      }
      if (!result?.policyDocument || typeof result.principalId !== 'string') {
        throw new Refusal('AUTHORIZER_CONFIGURATION_ERROR');
      }
      if (a.ttlSeconds > 0) {
        // Bounded: a flood of distinct keys cannot grow the cache without limit.
        if (this.authCache.size >= 10_000) this.authCache.clear();
        this.authCache.set(cacheKey, { until: this.now() + a.ttlSeconds * 1000, result });
      }
    }
    if (!policyAllows(result.policyDocument, methodArn)) throw new Refusal('ACCESS_DENIED');
    const context: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries((result.context ?? {}) as Record<string, unknown>)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') context[k] = v;
    }
    return { ...context, principalId: result.principalId, integrationLatency: 0 };
  }

  /** The usage plan's throttle (token bucket) and quota of an API key. */
  private meter(apiKey: string): void {
    const plan = this.keyPlans.get(apiKey);
    if (!plan) return;
    const now = this.now();
    if (plan.throttle) {
      const b = this.buckets.get(apiKey) ?? { tokens: plan.throttle.burstLimit, at: now };
      b.tokens = Math.min(plan.throttle.burstLimit, b.tokens + ((now - b.at) / 1000) * plan.throttle.rateLimit);
      b.at = now;
      this.buckets.set(apiKey, b);
      if (b.tokens < 1) throw new Refusal('THROTTLED');
      b.tokens -= 1;
    }
    if (plan.quota) {
      const d = new Date(now);
      const period =
        plan.quota.period === 'DAY'
          ? d.toISOString().slice(0, 10)
          : plan.quota.period === 'WEEK'
            ? `${d.getUTCFullYear()}-w${Math.floor((now / 86_400_000 + 3) / 7)}`
            : d.toISOString().slice(0, 7);
      const q = this.quotaUsed.get(apiKey);
      const used = q && q.period === period ? q.used : 0;
      if (used >= plan.quota.limit) throw new Refusal('QUOTA_EXCEEDED');
      this.quotaUsed.set(apiKey, { period, used: used + 1 });
    }
  }

  /** The method's request validator: required parameters, and the body against the content type's model. */
  private validate(
    method: MethodSpec,
    headers: Record<string, string>,
    pathParameters: Record<string, string>,
    query: Record<string, string> | null,
    body: Buffer,
  ): void {
    const v = method.validatorId ? this.spec.validators.get(method.validatorId) : undefined;
    if (!v) return;
    if (v.parameters) {
      for (const [name, required] of Object.entries(method.requestParameters)) {
        if (!required) continue;
        const m = /^method\.request\.(path|querystring|header)\.(.+)$/.exec(name);
        if (!m) continue;
        const value =
          m[1] === 'path'
            ? pathParameters[m[2]!]
            : m[1] === 'querystring'
              ? query?.[m[2]!]
              : headers[m[2]!.toLowerCase()];
        if (value === undefined || value === '') throw new Refusal('BAD_REQUEST_PARAMETERS');
      }
    }
    if (!v.body) return;
    const contentType = (headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
    const modelId = method.requestModels[contentType] ?? method.requestModels.$default;
    const schema = modelId ? this.spec.models.get(modelId) : undefined;
    if (!modelId || schema === undefined) return;
    let validate = this.validators.get(modelId);
    if (!validate) {
      validate = compileModel(schema);
      this.validators.set(modelId, validate);
    }
    let data: unknown;
    try {
      data = JSON.parse(body.toString('utf8'));
    } catch {
      throw new Refusal('BAD_REQUEST_BODY', undefined, 'Invalid JSON in request body');
    }
    if (!validate(data)) {
      const err = validate.errors?.[0];
      throw new Refusal('BAD_REQUEST_BODY', undefined, `${err?.instancePath || '/'} ${err?.message ?? 'is invalid'}`);
    }
  }

  /** The template's gateway response for a refusal (its type, else DEFAULT_4XX/5XX), with `$context` filled in. */
  private gatewayResponse(r: Refusal, requestId: string) {
    const status = r.status ?? DEFAULT_STATUS[r.type] ?? 500;
    const spec =
      this.spec.responses.get(r.type) ?? this.spec.responses.get(status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX');
    const message = DEFAULT_MESSAGE[r.type] ?? (status >= 500 ? 'Internal server error' : 'Bad request');
    const vars: Record<string, string> = {
      '$context.requestId': requestId,
      '$context.error.message': message,
      '$context.error.messageString': JSON.stringify(message),
      '$context.error.responseType': r.type,
      '$context.error.validationErrorString': r.errorMessage ?? '',
    };
    const body = spec?.template
      ? spec.template.replace(/\$context(?:\.[A-Za-z]+)+/g, (k) => (k in vars ? jsonInner(vars[k]!) : ''))
      : JSON.stringify({ message });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries({ 'content-type': 'application/json', ...(spec?.headers ?? {}) })) {
      headers[k.toLowerCase()] = v;
    }
    return { status: spec?.statusCode ?? status, headers: { ...headers, 'x-amzn-errortype': r.type }, body };
  }
}

/** A string as it may sit inside a JSON string literal. */
const jsonInner = (s: string) => JSON.stringify(s).slice(1, -1);

/** Request headers, lower-cased, one value each (the last). */
function headersOf(req: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** The request body, or undefined when it is larger than API Gateway accepts (reading stops there). */
function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const TIMED_OUT = Symbol('timed out');

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(TIMED_OUT), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function timingSafeEqualString(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** An IAM-style policy's verdict on `execute-api:Invoke` of `arn` (explicit deny wins; `*` and `?` wildcards). */
export function policyAllows(doc: Json, arn: string): boolean {
  const statements = (Array.isArray(doc?.Statement) ? doc.Statement : [doc?.Statement]).filter(Boolean) as Json[];
  const matches = (pattern: string) => {
    // Linear: a wildcard match over the two strings, no regular expression built from input.
    let p = 0;
    let s = 0;
    let star = -1;
    let mark = 0;
    while (s < arn.length) {
      if (p < pattern.length && (pattern[p] === '?' || pattern[p] === arn[s])) {
        p++;
        s++;
      } else if (p < pattern.length && pattern[p] === '*') {
        star = p++;
        mark = s;
      } else if (star >= 0) {
        p = star + 1;
        s = ++mark;
      } else return false;
    }
    while (p < pattern.length && pattern[p] === '*') p++;
    return p === pattern.length;
  };
  const applies = (st: Json) => {
    const actions = ([] as string[]).concat(st.Action ?? []);
    const resources = ([] as string[]).concat(st.Resource ?? []);
    return actions.some((a) => a === '*' || /^execute-api:(\*|Invoke)$/i.test(a)) && resources.some(matches);
  };
  if (statements.some((st) => st.Effect === 'Deny' && applies(st))) return false;
  return statements.some((st) => st.Effect === 'Allow' && applies(st));
}
