/**
 * What a tenant must satisfy to deploy in a region on a platform, beyond its file's own rules: its models can
 * be called from the region, its throttle fits under the WAF rate limit, its function timeout fits the API
 * Gateway integration timeout of the account, and its largest answer can be produced in the time a model call
 * gets. Problems name the field of the tenant file; the loader prefixes the file name.
 */
import { getModel, modelsNotCallableFrom } from '../../lambda/shared/catalog';
import { CALL_TIMING, firstCallBudgetMs } from '../../lambda/shared/timing';
import type { PlatformConfig } from '../config/platform-config';
import type { FieldProblem, TenantConfig } from '../config/tenant-config';
import { INTEGRATION_TIMEOUT } from './quotas';

/** WAF rate-based rules count requests over this window (seconds). */
const WAF_WINDOW_SECONDS = 300;
/** Lambda's own timeout ceiling (seconds). */
const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/** The API Gateway integration timeout of this account (default, or raised in cdk.json), in seconds. */
export function integrationTimeoutSeconds(platform: PlatformConfig): number {
  return Math.min(
    platform.quotas[INTEGRATION_TIMEOUT.id] ?? INTEGRATION_TIMEOUT.defaultSeconds,
    LAMBDA_MAX_TIMEOUT_SECONDS,
  );
}

/** The speed the answer-time check uses for a model: the account's measured one, else the catalog's. */
function modelSpeed(platform: PlatformConfig, modelId: string) {
  const catalog = getModel(modelId).speed;
  const measured = platform.modelSpeeds[modelId];
  return measured
    ? {
        outputTokensPerSecond: measured.outputTokensPerSecond,
        firstTokenMs: measured.firstTokenMs ?? catalog.firstTokenMs,
        from: 'cdk.json (measured)',
      }
    : { ...catalog, from: `${catalog.source.url} (read ${catalog.source.readOn})` };
}

/** The largest answer (tokens) a model can produce within `budgetMs`. */
export function tokensWithin(budgetMs: number, speed: { outputTokensPerSecond: number; firstTokenMs: number }): number {
  return Math.max(0, Math.floor(((budgetMs - speed.firstTokenMs) / 1000) * speed.outputTokensPerSecond));
}

/** Problems of one tenant in `region` on `platform`. */
export function tenantDeploymentProblems(t: TenantConfig, region: string, platform: PlatformConfig): FieldProblem[] {
  const problems: FieldProblem[] = [];
  // A webhook whose URL nobody could set would never be told anything (its secret starts without a URL).
  if (t.escalation.webhook && platform.webhookOperatorRoles.length === 0) {
    problems.push({
      path: 'escalation.webhook',
      message:
        'nobody could set its URL or read its signing key: name the roles that may in cdk.json context.switchboard.webhookOperatorRoles (README, "Webhooks")',
    });
  }
  // Models reachable from the region.
  for (const tier of t.models.allowed) {
    const primary = t.models.byTier[tier]!;
    for (const m of modelsNotCallableFrom(region, [primary])) {
      problems.push({
        path: `models.overrides.${tier}`,
        message: `${m} cannot be called from ${region} (its inference profile is callable from ${getModel(m).sourceRegions.join(', ')}); deploy to one of those regions or choose a model of the catalog that is`,
      });
    }
    for (const m of modelsNotCallableFrom(region, t.models.fallbacks[tier] ?? [])) {
      problems.push({
        path: `models.fallbacks.${tier}`,
        message: `${m} cannot be called from ${region} (callable from ${getModel(m).sourceRegions.join(', ')})`,
      });
    }
  }
  // WAF never blocks what the usage plan allows (one client at the tenant's full rate, from one address).
  const perWindow = Math.ceil(t.throttle.rateLimit * WAF_WINDOW_SECONDS);
  for (const [name, limit] of [
    ['requestsPer5MinPerClient', platform.waf.requestsPer5MinPerClient],
    ['requestsPer5MinPerIp', platform.waf.requestsPer5MinPerIp],
  ] as const) {
    if (perWindow > limit) {
      problems.push({
        path: 'throttle.rateLimit',
        message: `${t.throttle.rateLimit} requests/s allows ${perWindow.toLocaleString('en-US')} requests in 5 minutes, above the WAF rate limit of ${limit.toLocaleString('en-US')} (cdk.json context.switchboard.waf.${name}); raise that limit or lower the rate`,
      });
    }
  }
  // The function must answer before API Gateway gives up on it.
  const limit = integrationTimeoutSeconds(platform);
  if (t.lambda.timeoutSeconds > limit) {
    problems.push({
      path: 'lambda.timeoutSeconds',
      message: `${t.lambda.timeoutSeconds} s is above the API Gateway integration timeout of ${limit} s; raise the quota "Maximum integration timeout" of Regional REST APIs and set context.switchboard.quotas["${INTEGRATION_TIMEOUT.id}"] in cdk.json, or lower the timeout`,
    });
    return problems;
  }
  // The largest answer fits the time the first call gets (the rest is kept for a fallback and the outcome).
  const budgetMs = firstCallBudgetMs(t.lambda.timeoutSeconds * 1000);
  for (const tier of t.models.allowed) {
    const modelId = t.models.byTier[tier]!;
    const speed = modelSpeed(platform, modelId);
    const fits = tokensWithin(budgetMs, speed);
    if (t.limits.maxOutputTokens > fits) {
      const seconds = (speed.firstTokenMs + (t.limits.maxOutputTokens / speed.outputTokensPerSecond) * 1000) / 1000;
      problems.push({
        path: 'limits.maxOutputTokens',
        message: `${t.limits.maxOutputTokens} tokens take about ${seconds.toFixed(0)} s on ${modelId} (the ${tier} tier: ${speed.outputTokensPerSecond} tokens/s, first token after ${speed.firstTokenMs} ms; ${speed.from}), but a model call gets ${(budgetMs / 1000).toFixed(1)} s of the ${t.lambda.timeoutSeconds} s timeout (${CALL_TIMING.fallbackKeepMs / 1000} s are kept for a fallback, ${CALL_TIMING.recordReserveMs / 1000} s to record the outcome): at most ${fits} fit. Lower it, or raise lambda.timeoutSeconds with the API Gateway integration timeout quota`,
      });
    }
  }
  return problems;
}
