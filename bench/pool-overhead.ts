/**
 * What serving a tenant from a pool cell costs per request, warm: the same POST /v1/inference through the silo
 * function (its bundle, its tenant from the environment, its own table) and through the pooled path (the pool
 * authorizer's bundle answering the API key, then the pool function's bundle: the tenant's registry item, its STS
 * session, admission under its own rate and quota, the ledger under `T#<tenant>#` of the cell's table). Everything
 * runs in this process on the same local parts (dynalite, the HTTP/2 Bedrock stand-in, the STS stand-in); the
 * tenant is the same standard-plan file in both. All caches are warm after the warm-up: the authorizer's key lookup
 * (10 s), the function's registry item (10 s) and the tenant's session (minutes); a request past a cache's life pays
 * its read again, as in Lambda. API Gateway's own authorizer cache would skip the authorizer call altogether;
 * it is timed anyway, so the figure is the pooled path's worst warm case. Blocks alternate so machine drift hits
 * both sides alike.
 */

import { performance } from 'node:perf_hooks';
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { parse as parseYaml } from 'yaml';
import { POOL_ENV } from '../lambda/shared/pool-runtime';
import { REGISTRY_TABLE_ENV } from '../lambda/shared/registry-schema';
import { LEDGER_TABLE_ENV } from '../lambda/shared/tenant-runtime';
import { bundleHandler } from '../lib/constructs/bundling';
import { BedrockStub } from '../test/support/bedrock-stub';
import { DynaliteServer } from '../test/support/dynalite-server';
import { createLedgerTable } from '../test/support/ledger-table';
import { ACCESS_ROLE_ARN, FUNCTION_CREDENTIALS, POOL_REGION, PoolCell } from '../test/support/pool-cell';
import { handlerEnv } from './bundle';
import { type Latency, lambdaContext, latency, type ProxyHandler, proxyEvent, quietly } from './request';
import { atMost, type Check, percentile, round } from './stats';
import { minimalTenantFile } from './tenant-file';

export interface PoolOverheadResults {
  readonly warmup: number;
  readonly requests: number;
  readonly blockSize: number;
  readonly silo: Latency & { readonly p95Ms: number };
  /** Authorizer + pooled function. */
  readonly pooled: Latency & { readonly p95Ms: number };
  /** The pooled function alone (what API Gateway's authorizer cache leaves). */
  readonly pooledFunction: Latency & { readonly p95Ms: number };
  readonly p50Ratio: number;
  readonly p95Ratio: number;
  readonly checks: Check[];
}

const SILO_TABLE = 'bench-silo-ledger';
export const PROMPT = 'Summarise the quarterly report in three sentences for the finance team.';
export const METHOD_ARN = 'arn:aws:execute-api:us-east-1:111111111111:benchapi/live/POST/v1/inference';

const withP95 = (xs: readonly number[]) => ({ ...latency(xs), p95Ms: round(percentile(xs, 95), 3) });

export type Authorizer = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

export async function benchPoolOverhead(
  opts: { warmup?: number; requests?: number; blockSize?: number; log?: (s: string) => void } = {},
): Promise<PoolOverheadResults> {
  const warmup = opts.warmup ?? 50;
  const requests = opts.requests ?? 300;
  const blockSize = opts.blockSize ?? 50;
  const log = opts.log ?? (() => {});
  const stub = new BedrockStub();
  const dyn = new DynaliteServer();
  const bedrockEndpoint = await stub.start();
  const dynamoEndpoint = await dyn.start();
  const cell = new PoolCell(dyn.dynamo, 'pool-1', 'bench-cell');
  try {
    // The silo function's environment (the bench tenant, a table of its own); the pool function's own
    // credentials, which the STS stand-in accepts, for both.
    const siloEnv = handlerEnv({ bedrock: bedrockEndpoint, dynamodb: dynamoEndpoint }, SILO_TABLE);
    Object.assign(process.env, siloEnv, {
      AWS_ACCESS_KEY_ID: FUNCTION_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FUNCTION_CREDENTIALS.secretAccessKey,
    });
    await cell.start();
    await createLedgerTable(dyn.dynamo, SILO_TABLE);
    const silo = (require(bundleHandler('inference').file) as { handler: ProxyHandler }).handler;

    // The same tenant file, onboarded into the cell through the control plane (rate limit above what one
    // sequential client sends, so every request is admitted: admission's two writes are timed all the same).
    const doc = parseYaml(minimalTenantFile('t0002')) as Record<string, unknown>;
    await cell.onboard({ ...doc, isolation: 'pool', throttle: { rateLimit: 1_000, burstLimit: 5_000 } });
    const apiKey = cell.apiKeys.t0002!;
    const guardrail = { arn: siloEnv.GUARDRAIL_ARN, version: siloEnv.GUARDRAIL_VERSION };
    Object.assign(process.env, {
      [POOL_ENV.cellId]: cell.cellId,
      [POOL_ENV.tenantAccessRoleArn]: ACCESS_ROLE_ARN,
      [POOL_ENV.guardrails]: JSON.stringify({ basic: guardrail, standard: guardrail, premium: guardrail }),
      [LEDGER_TABLE_ENV]: cell.ledgerTable,
      [REGISTRY_TABLE_ENV]: cell.registryTable,
      AWS_REGION: POOL_REGION,
      AWS_ENDPOINT_URL_STS: cell.sts.endpoint,
    });
    const pooled = (require(bundleHandler('pool-inference').file) as { handler: ProxyHandler }).handler;
    const authorizer = (require(bundleHandler('pool-authorizer').file) as { handler: Authorizer }).handler;

    const ok = (side: string, res: { statusCode: number; body: string }) => {
      if (res.statusCode !== 200) throw new Error(`${side} answered ${res.statusCode}: ${res.body}`);
    };
    const callSilo = async () => ok('silo', await silo(proxyEvent({ prompt: PROMPT }), lambdaContext()));
    /** The pooled function as API Gateway calls it: with the authorizer's context. */
    const callPooledFunction = async (context: Record<string, unknown>) => {
      const event = proxyEvent({ prompt: PROMPT });
      const withContext = {
        ...event,
        requestContext: { ...event.requestContext, authorizer: context },
      } as APIGatewayProxyEvent;
      ok('pooled', await pooled(withContext, lambdaContext()));
    };
    const authorize = async () => {
      const answer = await authorizer({
        type: 'REQUEST',
        methodArn: METHOD_ARN,
        headers: { 'x-api-key': apiKey },
        multiValueHeaders: { 'x-api-key': [apiKey] },
      } as unknown as APIGatewayRequestAuthorizerEvent);
      if (answer.policyDocument.Statement[0]?.Effect !== 'Allow') throw new Error('the authorizer refused the key');
      return { ...answer.context, principalId: answer.principalId };
    };
    const callPooled = async () => callPooledFunction(await authorize());
    const context = await authorize();

    const siloMs: number[] = [];
    const pooledMs: number[] = [];
    const functionMs: number[] = [];
    const timed = async (fn: () => Promise<void>, into: number[] | undefined, n: number) => {
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await fn();
        into?.push(performance.now() - t0);
      }
    };
    const lines = await quietly(async () => {
      await timed(callSilo, undefined, warmup);
      await timed(callPooled, undefined, warmup);
      for (let done = 0; done < requests; done += blockSize) {
        const n = Math.min(blockSize, requests - done);
        await timed(callSilo, siloMs, n);
        await timed(callPooled, pooledMs, n);
        await timed(() => callPooledFunction(context), functionMs, n);
      }
    });
    const assumed = cell.sts.calls.filter((c) => c.outcome === 'issued').length;
    log(
      `  pool overhead: ${siloMs.length} silo + ${pooledMs.length} pooled + ${functionMs.length} function-only timed; ${assumed} AssumeRole call(s); ${lines} log writes swallowed`,
    );
    const s = withP95(siloMs);
    const p = withP95(pooledMs);
    const f = withP95(functionMs);
    const p50Ratio = round(p.p50Ms / s.p50Ms, 3);
    const p95Ratio = round(p.p95Ms / s.p95Ms, 3);
    return {
      warmup,
      requests,
      blockSize,
      silo: s,
      pooled: p,
      pooledFunction: f,
      p50Ratio,
      p95Ratio,
      checks: [
        atMost(
          'pool.p50.ratio',
          'Warm request p50: pooled (authorizer + function) / silo',
          p50Ratio,
          1.3,
          '×',
          '≤ 1.3×',
          `silo p50 ${s.p50Ms} ms, p95 ${s.p95Ms} ms; pooled p50 ${p.p50Ms} ms, p95 ${p.p95Ms} ms (p95 ratio ${p95Ratio}×); pooled function alone p50 ${f.p50Ms} ms`,
        ),
      ],
    };
  } finally {
    await cell.stop();
    await stub.stop();
    await dyn.stop();
  }
}
