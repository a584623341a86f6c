/**
 * Onboarding a pooled tenant to its first answered request, on the local parts (the issue's "control-plane call to
 * its first answered request, ≤ 1 s"): for each new tenant, the clock runs from `POST /v1/tenants` (the control
 * plane's handler, as PoolCell onboards, on the registry table the authorizer and the pool function read) to the
 * first 200 of `POST /v1/inference` made with the returned API key: the pool authorizer's bundle answering the key,
 * then the pool function's bundle serving the request with the authorizer's context. Dynalite, the HTTP/2 Bedrock
 * stand-in and the STS stand-in, as in ./pool-overhead.ts.
 *
 * The containers are warm, as after other tenants' traffic: the bundles are loaded fresh here and a few warm-up
 * tenants are onboarded and served first. Nothing is warmed for a measured tenant: its key is new to the
 * authorizer's lookup cache, its registry item to the function's tenant cache, it has no STS session and no
 * admission items, and its ports are built on its first request. Each measured tenant costs exactly one
 * AssumeRole, which is checked, so a warm session would not go unnoticed.
 */
import { performance } from 'node:perf_hooks';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { parse as parseYaml } from 'yaml';
import { POOL_ENV } from '../lambda/shared/pool-runtime';
import { REGISTRY_TABLE_ENV } from '../lambda/shared/registry-schema';
import { LEDGER_TABLE_ENV } from '../lambda/shared/tenant-runtime';
import { bundleHandler } from '../lib/constructs/bundling';
import { BedrockStub } from '../test/support/bedrock-stub';
import { DynaliteServer } from '../test/support/dynalite-server';
import { ACCESS_ROLE_ARN, FUNCTION_CREDENTIALS, POOL_REGION, PoolCell } from '../test/support/pool-cell';
import { handlerEnv } from './bundle';
import { type Authorizer, METHOD_ARN, PROMPT } from './pool-overhead';
import { lambdaContext, type ProxyHandler, proxyEvent, quietly } from './request';
import { atMost, type Check, percentile, round } from './stats';
import { minimalTenantFile } from './tenant-file';

export interface OnboardFirstAnswerResults {
  readonly tenants: number;
  readonly warmTenants: number;
  /** POST /v1/tenants → first 200 of POST /v1/inference, per tenant. */
  readonly totalP50Ms: number;
  readonly totalP95Ms: number;
  readonly totalMaxMs: number;
  /** The parts, p50: the control plane call, the authorizer (cold key), the pool function (cold tenant). */
  readonly postP50Ms: number;
  readonly authorizerP50Ms: number;
  readonly functionP50Ms: number;
  readonly assumeRoleCalls: number;
  readonly checks: Check[];
}

/** A fresh container: the bundle loaded again, so its clients take this benchmark's endpoints. */
function freshHandler<T>(name: 'pool-inference' | 'pool-authorizer'): T {
  const file = require.resolve(bundleHandler(name).file);
  delete require.cache[file];
  return (require(file) as { handler: T }).handler;
}

export async function benchOnboardFirstAnswer(opts: {
  tenants: number;
  warmTenants?: number;
  warmRequests?: number;
  log?: (s: string) => void;
}): Promise<OnboardFirstAnswerResults> {
  const warmTenants = opts.warmTenants ?? 5;
  const warmRequests = opts.warmRequests ?? 5;
  const log = opts.log ?? (() => {});
  const stub = new BedrockStub();
  const dyn = new DynaliteServer();
  const bedrockEndpoint = await stub.start();
  const dynamoEndpoint = await dyn.start();
  const cell = new PoolCell(dyn.dynamo, 'pool-1', 'bench-first-answer');
  try {
    // The pool function's own credentials (the only ones the STS stand-in accepts; dynalite takes any).
    const env = handlerEnv({ bedrock: bedrockEndpoint, dynamodb: dynamoEndpoint }, cell.ledgerTable);
    Object.assign(process.env, env, {
      AWS_ACCESS_KEY_ID: FUNCTION_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FUNCTION_CREDENTIALS.secretAccessKey,
    });
    await cell.start();
    const guardrail = { arn: env.GUARDRAIL_ARN, version: env.GUARDRAIL_VERSION };
    Object.assign(process.env, {
      [POOL_ENV.cellId]: cell.cellId,
      [POOL_ENV.tenantAccessRoleArn]: ACCESS_ROLE_ARN,
      [POOL_ENV.guardrails]: JSON.stringify({ basic: guardrail, standard: guardrail, premium: guardrail }),
      [LEDGER_TABLE_ENV]: cell.ledgerTable,
      [REGISTRY_TABLE_ENV]: cell.registryTable,
      AWS_REGION: POOL_REGION,
      AWS_ENDPOINT_URL_STS: cell.sts.endpoint,
    });
    const pooled = freshHandler<ProxyHandler>('pool-inference');
    const authorizer = freshHandler<Authorizer>('pool-authorizer');

    /** Onboards `id` (the benchmarks' standard-plan file, pooled) through the control plane; its API key. */
    const onboard = async (id: string) => {
      await cell.onboard(parseYaml(minimalTenantFile(id)) as Record<string, unknown>);
      return cell.apiKeys[id]!;
    };
    const authorize = async (apiKey: string) => {
      const answer = await authorizer({
        type: 'REQUEST',
        methodArn: METHOD_ARN,
        headers: { 'x-api-key': apiKey },
        multiValueHeaders: { 'x-api-key': [apiKey] },
      } as never);
      if (answer.policyDocument.Statement[0]?.Effect !== 'Allow') throw new Error('the authorizer refused the key');
      return { ...answer.context, principalId: answer.principalId };
    };
    const infer = async (context: Record<string, unknown>) => {
      const event = proxyEvent({ prompt: PROMPT });
      const res = await pooled(
        { ...event, requestContext: { ...event.requestContext, authorizer: context } } as APIGatewayProxyEvent,
        lambdaContext(),
      );
      if (res.statusCode !== 200) throw new Error(`the pool function answered ${res.statusCode}: ${res.body}`);
    };

    const post: number[] = [];
    const auth: number[] = [];
    const fn: number[] = [];
    const total: number[] = [];
    let assumeRoleCalls = 0;
    const lines = await quietly(async () => {
      // Other tenants' traffic first: the containers, the control plane, the connections are warm.
      for (let w = 0; w < warmTenants; w++) {
        const key = await onboard(`warm-${w}`);
        for (let r = 0; r < warmRequests; r++) await infer(await authorize(key));
      }
      const issued = () => cell.sts.calls.filter((c) => c.outcome === 'issued').length;
      const before = issued();
      for (let i = 0; i < opts.tenants; i++) {
        const t0 = performance.now();
        const key = await onboard(`first-${i}`);
        const t1 = performance.now();
        const context = await authorize(key);
        const t2 = performance.now();
        await infer(context);
        const t3 = performance.now();
        post.push(t1 - t0);
        auth.push(t2 - t1);
        fn.push(t3 - t2);
        total.push(t3 - t0);
      }
      assumeRoleCalls = issued() - before;
    });
    // Every measured tenant must have paid for its own session: none was warm.
    if (assumeRoleCalls !== opts.tenants)
      throw new Error(`${assumeRoleCalls} AssumeRole calls for ${opts.tenants} new tenants: a session was not cold`);
    log(
      `  onboard → first answer: ${opts.tenants} tenants timed after ${warmTenants} warm-up tenants; ${assumeRoleCalls} AssumeRole call(s); ${lines} log writes swallowed`,
    );
    const p50 = (xs: number[]) => round(percentile(xs, 50), 2);
    const totalMaxMs = round(Math.max(...total), 2);
    const totalP50Ms = p50(total);
    return {
      tenants: opts.tenants,
      warmTenants,
      totalP50Ms,
      totalP95Ms: round(percentile(total, 95), 2),
      totalMaxMs,
      postP50Ms: p50(post),
      authorizerP50Ms: p50(auth),
      functionP50Ms: p50(fn),
      assumeRoleCalls,
      checks: [
        atMost(
          'onboarding.first-answer',
          'Onboard a pooled tenant → first answered request (max, local parts)',
          totalMaxMs,
          1000,
          'ms',
          '≤ 1 s',
          `${opts.tenants} new tenants, each cold (key lookup, registry item, STS session, admission), containers warm: p50 ${totalP50Ms} ms, max ${totalMaxMs} ms (POST p50 ${p50(post)} ms, authorizer ${p50(auth)} ms, pool function ${p50(fn)} ms)`,
        ),
      ],
    };
  } finally {
    await cell.stop();
    await stub.stop();
    await dyn.stop();
  }
}
