/**
 * The whole platform on loopback (`npm start`, scripts/start.ts), from the synthesized cloud assembly:
 *
 * - dynalite with every DynamoDB table of the templates (key schema and indexes from the template), its data kept
 *   under `<dataDir>/dynalite` so a restart keeps requests, usage and reviews (`fresh` starts empty);
 * - the Bedrock Runtime stand-in (h2c) with the demo behaviour of local/bedrock-demo.ts (`[[sb:unsure]]`, …);
 * - STS, KMS, Secrets Manager and API Gateway management (authorizer cache flush) stand-ins;
 * - Step Functions: the state machines of the templates on aws-local-stepfunctions (local/sfn-standin.ts);
 * - every function of the templates run from its bundle in a warm worker (local/function-runner.ts), its
 *   environment from the template with the references resolved to the local parts;
 * - every RestApi of the templates (silo tenants, pool cells, the control plane) on its own port, built from the
 *   template (local/gateway.ts); IAM routes accept the sandbox token (`Authorization: Bearer <token>`);
 * - the scheduled housekeeping (the templates' AWS::Events::Rule schedules invoking their targets with their input);
 * - the review console (`console/`), its `/config.json` and a dev sign-in.
 *
 * Pooled sample tenants (tenants/*.yaml with isolation pool) are onboarded through the local control plane on first
 * start; their keys are kept for restarts. Ports: the review console on the base port, then the control plane, the
 * pool cells and the silo tenants, one port each, in that order.
 */
import './polyfills';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { parse as parseYaml } from 'yaml';
import { reviewerGroupName } from '../lambda/review/http/reviewer-claims';
import { DEFAULT_TIER_MODELS } from '../lambda/shared/catalog';
import { TENANT_SESSION_TAG } from '../lambda/shared/pool-keys';
import { parseTenantFile } from '../lib/config/load-tenants';
import { ApiGatewayStandIn } from './apigateway-standin';
import { demoBehaviour, fallbackModels } from './bedrock-demo';
import { BedrockStub } from './bedrock-stub';
import { DynaliteServer } from './dynalite-server';
import { FunctionError, LocalFunction } from './function-runner';
import { LocalGateway, type RestApiSpec, readRestApis } from './gateway';
import { KmsStandIn } from './kms-standin';
import {
  DEFAULT_PORT,
  type RunningSandbox,
  type SandboxInfo,
  type SandboxOptions,
  type SandboxTenant,
  type ScheduleRun,
} from './sandbox-info';
import { SecretsManagerStandIn } from './secrets-manager-standin';
import { definitionFromTemplate, SfnStandIn } from './sfn-standin';
import { StsStandIn } from './sts-standin';
import { ensureSynth, REPO_ROOT } from './synth-cache';
import { environmentOf, readTemplates, type TemplateJson } from './template';

export type { RunningSandbox, SandboxInfo, SandboxOptions, SandboxTenant, ScheduleRun } from './sandbox-info';
export { DEFAULT_PORT } from './sandbox-info';

const REGION = 'us-east-1';
const ACCOUNT = '111111111111';
/** The functions' credentials (Lambda's execution role, locally): the only caller the STS stand-in accepts. */
const FUNCTION_CREDENTIALS = { accessKeyId: 'AKIDSANDBOXFUNCTION', secretAccessKey: 'sandbox-function-secret' };

/** A port the sandbox needs is taken: the message names it and the `--port` option. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    what: string,
    basePort: number,
    count: number,
  ) {
    super(
      `Port ${port} (${what}) is already in use. Stop what is using it, or start the sandbox on other ports: ` +
        `npm start -- --port <n> (it uses ${count} consecutive ports from <n>; now ${basePort}-${basePort + count - 1}).`,
    );
    this.name = 'PortInUseError';
  }
}

/** Local names and ARNs of a stack's resources (what CloudFormation would give them). */
function refsOfStack(stackName: string, template: TemplateJson, local: Map<string, string>): Record<string, string> {
  const stackUuid = createHash('sha256').update(stackName).digest('hex');
  const uuid = `${stackUuid.slice(0, 8)}-${stackUuid.slice(8, 12)}-${stackUuid.slice(12, 16)}-${stackUuid.slice(16, 20)}-${stackUuid.slice(20, 32)}`;
  const named = (id: string, r: { Properties?: Record<string, unknown> }, prop: string) =>
    typeof r.Properties?.[prop] === 'string' ? (r.Properties[prop] as string) : `${stackName}-${id}`;
  const value = (key: string): string | undefined => {
    const fixed = local.get(`${stackName}/${key}`);
    if (fixed !== undefined) return fixed;
    if (key === 'AWS::StackId') return `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${stackName}/${uuid}`;
    if (key === 'AWS::StackName') return stackName;
    if (key.startsWith('AWS::')) return undefined; // pseudo parameters: local/template.ts
    const [id, attr] = key.split('.') as [string, string | undefined];
    const r = template.Resources[id];
    if (!r || r.Type.startsWith('AWS::Bedrock::')) return undefined; // guardrails: their stand-in values
    switch (r.Type) {
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable': {
        const name = named(id, r, 'TableName');
        return attr === 'Arn' ? `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}` : name;
      }
      case 'AWS::Lambda::Function': {
        const name = named(id, r, 'FunctionName');
        return attr === 'Arn' ? `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}` : name;
      }
      case 'AWS::KMS::Key': {
        const keyId = `${uuid.slice(0, 24)}${createHash('sha256').update(id).digest('hex').slice(0, 12)}`;
        return attr === 'Arn' ? `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}` : keyId;
      }
      case 'AWS::IAM::Role':
        return attr === 'Arn' ? `arn:aws:iam::${ACCOUNT}:role/${stackName}-${id}` : `${stackName}-${id}`;
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${REGION}:${ACCOUNT}:${stackName}-${id}`;
      case 'AWS::ApiGateway::RestApi':
        return attr === 'RootResourceId' ? `${id}-root` : apiIdOf(stackName, id);
      case 'AWS::ApiGateway::Stage':
        return String(r.Properties?.StageName ?? 'live');
      default:
        return attr === 'Arn' ? `arn:aws:local:${REGION}:${ACCOUNT}:${stackName}/${id}` : `${stackName}-${id}`;
    }
  };
  return new Proxy({} as Record<string, string>, {
    get: (_t, key) => (typeof key === 'string' ? value(key) : undefined),
  });
}

/** The id a RestApi has locally (10 characters, like API Gateway's). */
function apiIdOf(stackName: string, logicalId: string): string {
  return createHash('sha256').update(`${stackName}/${logicalId}`).digest('hex').slice(0, 10);
}

/** The sandbox's key of a tenant stack's ApiKey (deterministic: the same on every machine and restart). */
export function siloApiKey(stackName: string, keyLogicalId: string): string {
  const tenant = stackName.replace(/^Switchboard-Tenant-/, '');
  return `sbx-${tenant}-${createHash('sha256').update(`switchboard-sandbox/${stackName}/${keyLogicalId}`).digest('hex').slice(0, 24)}`;
}

/** Seconds of a schedule expression (`rate(5 minutes)`); undefined for cron expressions (not run locally). */
export function rateSeconds(expr: string): number | undefined {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expr.trim());
  if (!m) return undefined;
  const unit = m[2]!.startsWith('minute') ? 60 : m[2]!.startsWith('hour') ? 3600 : 86_400;
  return Number(m[1]) * unit;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Another sandbox runs on the same data dir (its tables cannot be opened twice). */
export class DataDirInUseError extends Error {
  constructor(dataDir: string, pid: number) {
    super(
      `Another sandbox (process ${pid}) is running with ${dataDir}. Stop it first (Ctrl-C in its terminal, or kill ${pid}).`,
    );
    this.name = 'DataDirInUseError';
  }
}

/** Takes the data dir's lock (`sandbox.lock`, the owner's pid; a lock whose process is gone is taken over). */
function lockDataDir(dataDir: string): () => void {
  const lock = path.join(dataDir, 'sandbox.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(lock, 'utf8').trim());
      let alive = false;
      try {
        alive = Number.isInteger(pid) && pid > 0 && process.kill(pid, 0);
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
      if (alive) throw new DataDirInUseError(dataDir, pid);
      fs.rmSync(lock, { force: true });
    }
  }
  throw new Error(`Cannot take the lock ${lock}`);
}

/** A secret kept in the data dir (created on first use). */
function keptSecret(file: string, make: () => string): string {
  try {
    const v = fs.readFileSync(file, 'utf8').trim();
    if (v) return v;
  } catch {
    // first start
  }
  const v = make();
  fs.writeFileSync(file, v, { mode: 0o600 });
  return v;
}

/** Starts the sandbox; resolves when every API answers. See the file header. */
export async function startSandbox(opts: SandboxOptions): Promise<RunningSandbox> {
  const log = opts.log ?? (() => undefined);
  const basePort = opts.port ?? DEFAULT_PORT;
  const dataDir = path.resolve(opts.dataDir);
  const dynaliteDir = path.join(dataDir, 'dynalite');
  const poolKeysFile = path.join(dataDir, 'pool-keys.json');
  fs.mkdirSync(dataDir, { recursive: true });
  const releaseLock = lockDataDir(dataDir);
  let outdir: string;
  let token: string;
  let kmsKey: Buffer;
  try {
    if (opts.fresh) {
      for (const f of [
        dynaliteDir,
        poolKeysFile,
        path.join(dataDir, 'kms.key'),
        path.join(dataDir, 'executions.json'),
      ]) {
        fs.rmSync(f, { recursive: true, force: true });
      }
    }
    fs.mkdirSync(path.join(dataDir, 'logs'), { recursive: true });
    outdir = opts.outdir ?? (await ensureSynth({ repoRoot: REPO_ROOT, dataDir, log }));
    token = keptSecret(path.join(dataDir, 'token'), () => `sbt_${randomBytes(24).toString('base64url')}`);
    kmsKey = Buffer.from(
      keptSecret(path.join(dataDir, 'kms.key'), () => randomBytes(32).toString('base64')),
      'base64',
    );
  } catch (e) {
    releaseLock();
    throw e;
  }
  const logFile = path.join(dataDir, 'logs', 'functions.log');
  const logStream = fs.createWriteStream(logFile, { flags: 'w' });
  const fnLog = (line: string) => logStream.write(`${new Date().toISOString()} ${line}\n`);

  // Stop what has started, in reverse order (also when the start fails half-way).
  const stops: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const s of stops.splice(0).reverse()) {
      try {
        await s();
      } catch (e) {
        fnLog(`stop: ${(e as Error).message}`);
      }
    }
    await new Promise<void>((resolve) => logStream.end(resolve));
    releaseLock();
  };

  try {
    const templates = readTemplates(outdir);
    // Ports of the user-facing servers, checked before anything else starts.
    const stackNames = [...templates.keys()];
    const apis = stackNames.flatMap((s) => readRestApis(templates.get(s)!, s));
    const order = (spec: RestApiSpec) =>
      spec.stackName === 'Switchboard-ControlPlane' ? 0 : spec.stackName.startsWith('Switchboard-Pool-') ? 1 : 2;
    apis.sort((a, b) => order(a) - order(b) || a.stackName.localeCompare(b.stackName, 'en', { numeric: true }));
    const portCount = 1 + apis.length;
    const portOf = (i: number) => basePort + i;
    await Promise.all(
      [{ what: 'the review console' }, ...apis.map((a) => ({ what: `${a.stackName} API` }))].map(async (p, i) => {
        if (!(await portFree(portOf(i)))) throw new PortInUseError(portOf(i), p.what, basePort, portCount);
      }),
    );

    // Local values shared by the stacks' references (fixed before the functions' environments are built).
    const local = new Map<string, string>();
    const refsByStack = new Map<string, Record<string, string>>();
    const refsOf = (stackName: string) => {
      let refs = refsByStack.get(stackName);
      if (!refs) {
        refs = refsOfStack(stackName, templates.get(stackName) ?? { Resources: {} }, local);
        refsByStack.set(stackName, refs);
      }
      return refs;
    };

    log('Starting DynamoDB (dynalite) …');
    const dynalite = new DynaliteServer();
    await dynalite.start({ path: dynaliteDir });
    stops.push(() => dynalite.stop());
    const existing = new Set<string>();
    let start: string | undefined;
    do {
      const page = await dynalite.dynamo.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
      for (const t of page.TableNames ?? []) existing.add(t);
      start = page.LastEvaluatedTableName;
    } while (start);
    let created = 0;
    for (const [stackName, template] of templates) {
      for (const [id, r] of Object.entries(template.Resources)) {
        if (r.Type !== 'AWS::DynamoDB::Table' && r.Type !== 'AWS::DynamoDB::GlobalTable') continue;
        const name = refsOf(stackName)[id]!;
        if (existing.has(name)) continue;
        await dynalite.createTableFromTemplate(template, id, name);
        existing.add(name);
        created++;
      }
    }
    log(
      created === existing.size
        ? `  ${created} tables created (data kept in ${dynaliteDir})`
        : `  ${existing.size} tables (${created} created; the others and their data kept from ${dynaliteDir})`,
    );

    log('Starting the Bedrock Runtime stand-in …');
    const bedrock = new BedrockStub();
    bedrock.maxRecorded = 100;
    const tenantFallbacks: string[] = [];
    for (const template of templates.values()) {
      for (const r of Object.values(template.Resources)) {
        const cfg = (r.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables?.TENANT_CONFIG;
        if (typeof cfg !== 'string') continue;
        const parsed = readJsonText<{ tierFallbacks?: Record<string, string[]> }>(cfg);
        for (const list of Object.values(parsed?.tierFallbacks ?? {})) tenantFallbacks.push(...list);
      }
    }
    bedrock.scriptDefault(demoBehaviour(fallbackModels(tenantFallbacks)));
    await bedrock.start();
    stops.push(() => bedrock.stop());

    log('Starting STS, KMS, Secrets Manager and Step Functions stand-ins …');
    const sts = new StsStandIn(
      { [FUNCTION_CREDENTIALS.accessKeyId]: FUNCTION_CREDENTIALS.secretAccessKey },
      TENANT_SESSION_TAG,
      REGION,
    );
    sts.maxRecorded = 100;
    const kms = new KmsStandIn(kmsKey);
    kms.maxRecorded = 100;
    const secrets = new SecretsManagerStandIn();
    const sfn = new SfnStandIn({ journal: path.join(dataDir, 'executions.json') });
    sfn.maxRecorded = 1_000;
    const gateways: LocalGateway[] = [];
    const apigw = new ApiGatewayStandIn(
      { [FUNCTION_CREDENTIALS.accessKeyId]: FUNCTION_CREDENTIALS.secretAccessKey },
      apis.map((a) => `${apiIdOf(a.stackName, a.logicalId)}/${a.stage}`),
      REGION,
    );
    apigw.onFlush = async () => {
      for (const g of gateways) g.flushAuthorizerCache();
    };
    await Promise.all([sts.start(), kms.start(), secrets.start(), sfn.start(), apigw.start()]);
    stops.push(
      () => sts.stop(),
      () => kms.stop(),
      () => secrets.stop(),
      () => apigw.stop(),
    );

    // Secrets of the templates (e.g. a tenant's webhook signing secret), with a generated value.
    for (const [stackName, template] of templates) {
      for (const [id, r] of Object.entries(template.Resources)) {
        if (r.Type !== 'AWS::SecretsManager::Secret') continue;
        const name = typeof r.Properties?.Name === 'string' ? r.Properties.Name : `${stackName}-${id}`;
        const arn = secrets.put(name, randomBytes(32).toString('base64'));
        local.set(`${stackName}/${id}`, arn);
      }
    }
    // State machines: their ARN from their name (as CloudFormation's Ref gives it).
    for (const [stackName, template] of templates) {
      for (const [id, r] of Object.entries(template.Resources)) {
        if (r.Type !== 'AWS::StepFunctions::StateMachine') continue;
        const name =
          r.Properties?.StateMachineName !== undefined
            ? resolveIn(stackName, r.Properties.StateMachineName)
            : `${stackName}-${id}`;
        local.set(`${stackName}/${id}`, `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`);
        local.set(`${stackName}/${id}.Name`, name);
      }
    }
    function resolveIn(stackName: string, v: unknown): string {
      const env = environmentOf({
        template: {
          Resources: { X: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { V: v } } } } },
        },
        outdir,
        functionLogicalId: 'X',
        refs: refsOf(stackName),
        env: {},
        refsOf,
      });
      return env.V!;
    }

    // Functions: a warm worker each, started on first use.
    const functions = new Map<string, LocalFunction>();
    const endpoints = {
      AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.endpoint,
      AWS_ENDPOINT_URL_SFN: sfn.endpoint,
      AWS_ENDPOINT_URL_STS: sts.endpoint,
      AWS_ENDPOINT_URL_KMS: kms.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_ENDPOINT_URL_API_GATEWAY: apigw.endpoint,
    };
    for (const [stackName, template] of templates) {
      for (const [id, r] of Object.entries(template.Resources)) {
        if (r.Type !== 'AWS::Lambda::Function') continue;
        const assetPath = r.Metadata?.['aws:asset:path'];
        if (typeof assetPath !== 'string') continue; // e.g. inline custom-resource providers: not run locally
        const file = path.join(outdir, assetPath, 'index.js');
        if (!fs.existsSync(file)) continue;
        const p = r.Properties ?? {};
        const name = refsOf(stackName)[id]!;
        const env = environmentOf({
          template,
          outdir,
          functionLogicalId: id,
          refs: refsOf(stackName),
          env: {},
          refsOf,
        });
        const handler = String(p.Handler ?? 'index.handler');
        functions.set(
          `${stackName}/${id}`,
          new LocalFunction(
            {
              name,
              file,
              exportName: handler.slice(handler.lastIndexOf('.') + 1),
              timeoutSeconds: Number(p.Timeout ?? 3),
              memoryMb: Number(p.MemorySize ?? 128),
              env: {
                ...env,
                ...endpoints,
                AWS_REGION: REGION,
                AWS_DEFAULT_REGION: REGION,
                AWS_ACCESS_KEY_ID: FUNCTION_CREDENTIALS.accessKeyId,
                AWS_SECRET_ACCESS_KEY: FUNCTION_CREDENTIALS.secretAccessKey,
                AWS_LAMBDA_FUNCTION_NAME: name,
                AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(p.MemorySize ?? 128),
                AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
                AWS_EXECUTION_ENV: `AWS_Lambda_${String(p.Runtime ?? 'nodejs')}`,
                LAMBDA_TASK_ROOT: path.dirname(file),
                _HANDLER: handler,
                TZ: 'UTC',
                PATH: process.env.PATH ?? '',
              },
            },
            fnLog,
          ),
        );
      }
    }
    stops.push(async () => {
      await Promise.all([...functions.values()].map((f) => f.stop()));
    });
    const invoke = (stackName: string, functionId: string, event: unknown) => {
      const fn = functions.get(`${stackName}/${functionId}`);
      if (!fn) return Promise.reject(new FunctionError(functionId, 'ResourceNotFoundException', 'no such function'));
      return fn.invoke(event);
    };

    // State machines on aws-local-stepfunctions; their Lambda tasks call the function they name.
    let machines = 0;
    for (const [stackName, template] of templates) {
      for (const [id, r] of Object.entries(template.Resources)) {
        if (r.Type !== 'AWS::StepFunctions::StateMachine') continue;
        const definition = definitionFromTemplate(template, id, refsOf(stackName));
        const fnIds = new Set(
          Object.entries(template.Resources)
            .filter(([, f]) => f.Type === 'AWS::Lambda::Function')
            .map(([fid]) => fid)
            .filter((fid) => JSON.stringify(r.Properties?.DefinitionString).includes(`"${fid}"`)),
        );
        const [only] = [...fnIds];
        if (fnIds.size !== 1 || !only) {
          log(`  (state machine ${stackName}/${id} calls ${fnIds.size} functions: not run locally)`);
          continue;
        }
        sfn.register(local.get(`${stackName}/${id}`)!, definition, (payload) => invoke(stackName, only, payload));
        machines++;
      }
    }
    stops.push(() => sfn.stop());
    log(
      `  ${machines} review workflow state machines, ${functions.size} functions (a worker each, started on first use)`,
    );
    const resumed = sfn.resumeJournal();
    if (resumed > 0) log(`  ${resumed} review workflow executions resumed from the last run`);

    // The APIs, built from the templates.
    const consoleOrigin = `http://127.0.0.1:${portOf(0)}`;
    const apiKeyValues = new Map<string, Map<string, string>>();
    for (const api of apis) {
      const keys = apiKeyValues.get(api.stackName) ?? new Map<string, string>();
      for (const [id, value] of api.apiKeys) keys.set(id, value ?? siloApiKey(api.stackName, id));
      apiKeyValues.set(api.stackName, keys);
    }
    log('Starting the APIs (from the templates) …');
    // The console's Cognito-authorized reviewer routes take the sandbox token as a reviewer of every sample tenant.
    const reviewerGroups = fs
      .readdirSync(path.join(REPO_ROOT, 'tenants'))
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => reviewerGroupName(f.replace(/\.ya?ml$/, '')));
    const urls = new Map<RestApiSpec, string>();
    for (const [i, api] of apis.entries()) {
      const gateway = new LocalGateway(api, {
        invoke: (fnId, event) => invoke(api.stackName, fnId, event),
        apiKeyValues: apiKeyValues.get(api.stackName)!,
        token,
        reviewerGroups,
        apiId: apiIdOf(api.stackName, api.logicalId),
        // The console as http://127.0.0.1:<port> or http://localhost:<port>.
        corsOrigins: [consoleOrigin, `http://localhost:${portOf(0)}`],
        log: fnLog,
      });
      try {
        urls.set(api, await gateway.listen(portOf(i + 1)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new PortInUseError(portOf(i + 1), `${api.stackName} API`, basePort, portCount);
        }
        throw e;
      }
      gateways.push(gateway);
      stops.push(() => gateway.stop());
      log(`  ${api.stackName.padEnd(28)} ${urls.get(api)}`);
    }

    // Scheduled housekeeping: each rule's targets on its rate, with the rule's input.
    const timers: NodeJS.Timeout[] = [];
    stops.push(() => {
      for (const t of timers) clearInterval(t);
    });
    let rules = 0;
    const scheduled: Array<() => Promise<ScheduleRun[]>> = [];
    for (const [stackName, template] of templates) {
      for (const [id, r] of Object.entries(template.Resources)) {
        if (r.Type !== 'AWS::Events::Rule' || r.Properties?.State === 'DISABLED') continue;
        const expression = String(r.Properties?.ScheduleExpression ?? '');
        const seconds = rateSeconds(expression);
        if (seconds === undefined) {
          if (expression) log(`  (schedule ${stackName}/${id} "${expression}": only rate() schedules run locally)`);
          continue;
        }
        const targets = ((r.Properties?.Targets ?? []) as Array<{ Arn?: unknown; Input?: string }>).flatMap((t) => {
          const getAtt = (t.Arn as { 'Fn::GetAtt'?: [string, string] })?.['Fn::GetAtt'];
          return getAtt && functions.has(`${stackName}/${getAtt[0]}`)
            ? [{ fnId: getAtt[0], input: t.Input ? (readJsonText(t.Input) ?? {}) : {} }]
            : [];
        });
        if (targets.length === 0) continue;
        rules++;
        const run = () =>
          Promise.all(
            targets.map((t) =>
              invoke(stackName, t.fnId, t.input).then(
                (): ScheduleRun => {
                  fnLog(`schedule ${stackName}/${id} → ${t.fnId}: done`);
                  return { rule: `${stackName}/${id}`, target: t.fnId, ok: true };
                },
                (e): ScheduleRun => {
                  fnLog(`schedule ${stackName}/${id} → ${t.fnId}: ${(e as Error).message}`);
                  return { rule: `${stackName}/${id}`, target: t.fnId, ok: false, error: (e as Error).message };
                },
              ),
            ),
          );
        scheduled.push(run);
        const timer = setInterval(() => void run(), seconds * 1000);
        timer.unref();
        timers.push(timer);
      }
    }
    log(`  ${rules} housekeeping schedules`);

    // The control plane; pooled sample tenants onboarded through it.
    const controlPlane = apis.find((a) => a.stackName === 'Switchboard-ControlPlane');
    const controlPlaneUrl = controlPlane ? urls.get(controlPlane)! : '';
    const poolKeys = readJson<Record<string, { apiKey: string; cell?: string }>>(poolKeysFile) ?? {};
    const tenantsDir = path.join(REPO_ROOT, 'tenants');
    const pooled = fs
      .readdirSync(tenantsDir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .flatMap((f) => {
        const text = fs.readFileSync(path.join(tenantsDir, f), 'utf8');
        const checked = parseTenantFile(f, text);
        return checked.tenant?.isolation === 'pool' ? [{ tenant: checked.tenant, text }] : [];
      });
    for (const { tenant, text } of pooled) {
      if (poolKeys[tenant.id] || !controlPlaneUrl) continue;
      log(`Onboarding pooled tenant ${tenant.id} through the control plane …`);
      const res = await fetch(`${controlPlaneUrl}/v1/tenants`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(parseYaml(text)),
      });
      const answer = (await res.json().catch(() => ({}))) as { apiKey?: string; tenant?: { cell?: string } };
      if (res.status !== 201 || !answer.apiKey) {
        throw new Error(`Onboarding ${tenant.id} failed: HTTP ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
      }
      poolKeys[tenant.id] = { apiKey: answer.apiKey, ...(answer.tenant?.cell ? { cell: answer.tenant.cell } : {}) };
      fs.writeFileSync(poolKeysFile, JSON.stringify(poolKeys, null, 2), { mode: 0o600 });
    }

    // What the user sees: the tenants, their URL, model and key.
    const tenants: Array<SandboxTenant & { model: string; reviewApi: string | null }> = [];
    for (const api of apis) {
      if (!api.stackName.startsWith('Switchboard-Tenant-')) continue;
      const id = api.stackName.slice('Switchboard-Tenant-'.length);
      const template = templates.get(api.stackName)!;
      const config = Object.values(template.Resources)
        .map((r) => (r.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables?.TENANT_CONFIG)
        .find((c): c is string => typeof c === 'string');
      const parsed = config
        ? readJsonText<{ defaultTier?: string; tierModels?: Record<string, string> }>(config)
        : undefined;
      const url = urls.get(api)!;
      const hasReviews = api.methods.some((m) => m.resourcePath === '/v1/reviews');
      tenants.push({
        id,
        isolation: 'silo',
        url,
        apiKey: [...apiKeyValues.get(api.stackName)!.values()][0] ?? '',
        model: parsed?.defaultTier ? `${parsed.defaultTier}: ${parsed.tierModels?.[parsed.defaultTier] ?? '?'}` : '?',
        reviewApi: hasReviews ? `${url}/v1/reviews` : null,
      });
    }
    const cells = apis.filter((a) => a.stackName.startsWith('Switchboard-Pool-'));
    for (const { tenant } of pooled) {
      const kept = poolKeys[tenant.id];
      if (!kept) continue;
      const cell =
        cells.find((c) => kept.cell && c.stackName === `Switchboard-Pool-${kept.cell.replace(/^pool-/, '')}`) ??
        cells[0];
      if (!cell) continue;
      const url = urls.get(cell)!;
      const tier = tenant.models.default;
      // The cell's review routes, for a tenant whose file opts in to human review (a review threshold above 0).
      const hasReviews =
        tenant.escalation.reviewThreshold > 0 &&
        cell.methods.some((m) => /^\/v1\/tenants\/\{[^}]+\}\/reviews$/.test(m.resourcePath));
      tenants.push({
        id: tenant.id,
        isolation: 'pool',
        url,
        apiKey: kept.apiKey,
        model: `${tier}: ${tenant.models.byTier[tier] ?? DEFAULT_TIER_MODELS[tier]}`,
        reviewApi: hasReviews ? `${url}/v1/tenants/${encodeURIComponent(tenant.id)}/reviews` : null,
      });
    }

    // The review console: static files of console/, its configuration and the dev sign-in.
    const consoleServer = await startConsole({
      port: portOf(0),
      dir: path.join(REPO_ROOT, 'console'),
      config: {
        signIn: { kind: 'dev', url: '/dev/sign-in' },
        tenants: tenants.map((t) => ({ id: t.id, isolation: t.isolation, reviewApi: t.reviewApi })),
      },
      token,
    }).catch((e) => {
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new PortInUseError(portOf(0), 'the review console', basePort, portCount);
      }
      throw e;
    });
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          consoleServer.closeAllConnections();
          consoleServer.close(() => resolve());
        }),
    );

    const info: SandboxInfo = {
      tenants: tenants.map(({ id, isolation, url, apiKey, model }) => ({ id, isolation, url, apiKey, model })),
      controlPlane: { url: controlPlaneUrl, token },
      reviewConsole: { url: `${consoleOrigin}/` },
    };
    fs.writeFileSync(path.join(dataDir, 'sandbox.json'), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    let stopping: Promise<void> | undefined;
    return {
      info,
      runSchedules: async () => (await Promise.all(scheduled.map((run) => run()))).flat(),
      stop: () => {
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

function readJsonText<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** True when nothing listens on 127.0.0.1:`port`. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = http.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Served while console/index.html does not exist yet. */
const PLACEHOLDER_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Switchboard review console</title></head>
<body><h1>Switchboard review console</h1><p>The console's files (console/index.html) are not there yet.
Its configuration: <a href="/config.json">/config.json</a>.</p></body></html>
`;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** The review console's server: `dir`'s files, `GET /config.json`, `POST /dev/sign-in`. */
async function startConsole(opts: { port: number; dir: string; config: object; token: string }): Promise<http.Server> {
  const root = path.resolve(opts.dir);
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/dev/sign-in') {
      if (req.method !== 'POST') return json(res, 405, { error: { code: 'method_not_allowed', message: 'POST only' } });
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 4096) chunks.push(c);
      });
      req.on('end', () => {
        let reviewer: unknown;
        try {
          reviewer =
            size <= 4096
              ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { reviewer?: unknown }).reviewer
              : undefined;
        } catch {
          reviewer = undefined;
        }
        if (typeof reviewer !== 'string' || !/^[A-Za-z0-9._@+=,-]{1,64}$/.test(reviewer)) {
          return json(res, 400, {
            error: {
              code: 'invalid_request',
              message: 'Send {"reviewer":"<name>"}: 1-64 letters, digits or . _ @ + = , -',
            },
          });
        }
        json(res, 200, { token: opts.token, reviewer });
      });
      return;
    }
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return json(res, 405, { error: { code: 'method_not_allowed', message: 'GET only' } });
    }
    if (url.pathname === '/config.json') return json(res, 200, opts.config);
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      return json(res, 400, { error: { code: 'invalid_request', message: 'Malformed path' } });
    }
    if (rel.endsWith('/')) rel += 'index.html';
    const file = path.resolve(root, `.${rel}`);
    if (file !== root && !file.startsWith(`${root}${path.sep}`)) {
      return json(res, 404, { error: { code: 'not_found', message: 'No such file' } });
    }
    fs.stat(file, (err, st) => {
      if (rel === '/index.html' && (err || !st.isFile())) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
        return res.end(PLACEHOLDER_PAGE);
      }
      if (err || !st.isFile()) return json(res, 404, { error: { code: 'not_found', message: 'No such file' } });
      res.writeHead(200, {
        'content-type': CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        'content-length': st.size,
        'cache-control': 'no-cache',
      });
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(file).pipe(res);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
