/**
 * Faults F1–F10 (README, "Faults and what the caller sees"), each over 50 requests, against the h2c Bedrock stand-in and dynalite (behind
 * a fault-injecting proxy) through the real SDK clients. After each scenario the ledger must show: every
 * accepted request exactly once, terminal or visibly pending; the counter equal to the records; the tenant
 * charged exactly what the stand-in answered; and each caller told what happened.
 */
import { DEFAULT_TIER_FALLBACKS, DEFAULT_TIER_MODELS } from '../../../lambda/shared/catalog';
import {
  type DynamoCall,
  HANG,
  INTERNAL_ERROR,
  THROUGHPUT_EXCEEDED,
  touchesUsageCounter,
} from '../../support/dynamo-fault-proxy';
import { type DeploymentModel, InferenceHarness, inBatches, outcomeOf } from '../../support/inference-harness';
import { checkLedger } from '../../support/ledger-invariants';

const N = 50;
const FAST = DEFAULT_TIER_MODELS.fast;
const FAST_ALT = DEFAULT_TIER_FALLBACKS.fast[0]!;
const BALANCED = DEFAULT_TIER_MODELS.balanced;
const BALANCED_ALT = DEFAULT_TIER_FALLBACKS.balanced[0]!;
const ALL_MODELS = [FAST, FAST_ALT, BALANCED, BALANCED_ALT, DEFAULT_TIER_MODELS.deep, DEFAULT_TIER_FALLBACKS.deep[0]!];

/**
 * The fault suite for one deployment model. One test file per model (faults.silo.test.ts, faults.pooled.test.ts),
 * so jest runs the two in parallel: each takes most of a minute of real deadlines and retries.
 */
export function describeFaults(model: DeploymentModel): void {
  describe(`${model} model`, () => {
    const h = new InferenceHarness(model);

    beforeAll(() => h.start());
    afterAll(() => h.stop());
    beforeEach(() => {
      h.bedrock.reset();
      h.proxy.clear();
      h.clockOffsetMs = 0;
    });

    /** A tenant that never escalates on confidence, so each scenario isolates its fault. */
    const noCascade = { escalation: { confidenceThreshold: 0, reviewThreshold: 0 } };
    const prompt = (i: number) => `Fault scenario request ${i}: summarise the quarterly report in one line.`;

    async function run(
      t: Awaited<ReturnType<InferenceHarness['tenant']>>,
      opts: { deadlineMs?: number; recordMs?: number; tier?: string; key?: (i: number) => string | undefined } = {},
    ) {
      return inBatches(N, 10, (i) =>
        outcomeOf(
          t.service.infer(
            {
              prompt: prompt(i),
              tier: (opts.tier ?? 'fast') as 'fast',
              ...(opts.key?.(i) ? { idempotencyKey: opts.key(i) } : {}),
            },
            {
              deadlineMs: Date.now() + (opts.deadlineMs ?? 20_000),
              ...(opts.recordMs ? { recordByMs: Date.now() + opts.recordMs } : {}),
            },
          ),
        ),
      );
    }

    const attemptsOf = (r: Record<string, unknown>) => r.attempts as Array<Record<string, unknown>>;

    describe('faults (50 requests each)', () => {
      it('F1: throttling for fewer calls than the SDK attempts is retried away: all answered by the primary model, charged once', async () => {
        const t = await h.tenant(noCascade);
        const seen = new Map<string, number>();
        h.bedrock.script(FAST, (_n, body) => {
          const key = body.messages[0]?.content[0]?.text ?? '';
          const k = (seen.get(key) ?? 0) + 1;
          seen.set(key, k);
          return k <= 2
            ? { kind: 'error', errorType: 'ThrottlingException', status: 429 }
            : { kind: 'answer', text: 'The quarter closed up 4%.' };
        });
        const out = await run(t);
        expect(out.every((o) => o.status === 200)).toBe(true);
        const records = await t.records();
        for (const r of records) {
          expect(r.modelId).toBe(FAST);
          expect(attemptsOf(r)).toHaveLength(1);
        }
        expect(h.bedrock.callsTo(FAST)).toHaveLength(3 * N);
        checkLedger({ records, counter: await t.counter(), outcomes: out, harness: h, allowedStatuses: ['completed'] });
      });

      it.each([
        { id: 'F2', what: 'sustained throttling', errorType: 'ThrottlingException', status: 429, kind: 'throttled' },
        { id: 'F3', what: 'model not ready', errorType: 'ModelNotReadyException', status: 429, kind: 'unavailable' },
        {
          id: 'F4',
          what: '503 service unavailable',
          errorType: 'ServiceUnavailableException',
          status: 503,
          kind: 'unavailable',
        },
        {
          id: 'F4b',
          what: 'model error (424, the model failed on a valid request)',
          errorType: 'ModelErrorException',
          status: 424,
          kind: 'unavailable',
        },
        { id: 'F5', what: 'model timeout', errorType: 'ModelTimeoutException', status: 408, kind: 'timeout' },
        {
          id: 'F5b',
          what: 'access denied (an inference profile routed the call to a region the IAM policy does not name)',
          errorType: 'AccessDeniedException',
          status: 403,
          kind: 'denied',
        },
      ])(
        '$id: $what on the primary model falls back to the tier alternative; the record shows both calls',
        async ({ errorType, status, kind }) => {
          const t = await h.tenant(noCascade);
          h.bedrock.script(FAST, { kind: 'error', errorType, status });
          h.bedrock.script(FAST_ALT, { kind: 'answer', text: 'Fallback answer.' });
          const out = await run(t);
          expect(out.every((o) => o.status === 200)).toBe(true);
          expect(out.every((o) => o.body.modelId === FAST_ALT)).toBe(true);
          const records = await t.records();
          for (const r of records) {
            const a = attemptsOf(r);
            expect(a.map((x) => [x.modelId, x.outcome])).toEqual([
              [FAST, kind],
              [FAST_ALT, 'ok'],
            ]);
            expect(a[0]!.errorCode).toBe(errorType);
            expect(String(a[1]!.reason)).toMatch(/^fallback/);
            expect(a[0]!.costUsd).toBe(0);
          }
          checkLedger({
            records,
            counter: await t.counter(),
            outcomes: out,
            harness: h,
            allowedStatuses: ['completed'],
          });
        },
      );

      it('F2b: when the whole tier is down the neighbouring tier answers', async () => {
        const t = await h.tenant(noCascade);
        for (const m of [FAST, FAST_ALT])
          h.bedrock.script(m, { kind: 'error', errorType: 'ThrottlingException', status: 429 });
        const out = await run(t);
        expect(out.every((o) => o.status === 200 && o.body.tier === 'balanced' && o.body.modelId === BALANCED)).toBe(
          true,
        );
        const records = await t.records();
        for (const r of records) expect(attemptsOf(r).map((a) => a.outcome)).toEqual(['throttled', 'throttled', 'ok']);
        checkLedger({ records, counter: await t.counter(), outcomes: out, harness: h, allowedStatuses: ['completed'] });
      });

      it('F6: every model down: 503 model_unavailable with Retry-After, a failed record per request, nothing charged', async () => {
        const t = await h.tenant(noCascade);
        for (const m of ALL_MODELS)
          h.bedrock.script(m, { kind: 'error', errorType: 'ServiceUnavailableException', status: 503 });
        const out = await run(t);
        for (const o of out) {
          expect(o.status).toBe(503);
          expect(o.code).toBe('model_unavailable');
          expect(o.retryAfter).toBeGreaterThan(0);
          expect(o.requestId).toMatch(/^req_/);
        }
        const records = await t.records();
        for (const r of records) {
          expect(r.status).toBe('failed');
          expect((r.error as { code: string }).code).toBe('model_unavailable');
          expect(attemptsOf(r).length).toBe(4); // fast + its fallback, balanced + its fallback
        }
        checkLedger({ records, counter: await t.counter(), outcomes: out, harness: h, allowedStatuses: ['failed'] });
        expect(h.usedNanoUsd()).toBe(0);
      });

      it('F7: bursts of DynamoDB throughput-exceeded errors: retried by the SDK where it can; otherwise a clear 503 and nothing lost', async () => {
        const t = await h.tenant(noCascade);
        // Bursts: 8 of every 20 DynamoDB calls are throttled, back to back.
        let n = 0;
        h.proxy.inject(() => (n++ % 20 < 8 ? THROUGHPUT_EXCEEDED : undefined));
        const out = await run(t);
        expect(h.proxy.faults()).toBeGreaterThan(N);
        h.proxy.clear();
        // Most requests get through on the SDK's retries; the others are told to retry. Nobody gets a 500.
        for (const o of out) {
          expect([200, 503]).toContain(o.status);
          if (o.status === 503) expect(o.code).toBe('ledger_unavailable');
        }
        expect(out.filter((o) => o.status === 200).length).toBeGreaterThan(N / 2);
        // A 503 before acceptance left nothing; one after acceptance (the outcome write failed) left a record
        // that reconciliation closes. Either way: one record per accepted request, counters equal to records.
        h.clockOffsetMs = 6 * 60_000;
        await t.service.getUsage();
        const records = await t.records();
        for (const o of out.filter((x) => x.status === 200)) {
          expect(records.find((r) => r.requestId === o.requestId)?.status).toBe('completed');
        }
        checkLedger({ records, counter: await t.counter(), outcomes: out, allowedStatuses: ['completed', 'failed'] });
        // Never more than what the models answered (an answer whose record could not be written is not billed).
        expect((await t.counter()).costNanoUsd as number).toBeLessThanOrEqual(h.usedNanoUsd());
        h.clockOffsetMs = 0;

        // A sustained burst (longer than the SDK's retries) before the request is accepted: a clear 503 with
        // Retry-After, no model call, nothing recorded or charged.
        const t2 = await h.tenant(noCascade);
        h.bedrock.reset();
        h.proxy.inject(() => THROUGHPUT_EXCEEDED);
        const refused = await run(t2);
        h.proxy.clear();
        for (const o of refused) {
          expect(o.status).toBe(503);
          expect(o.code).toBe('ledger_unavailable');
          expect(String(o.body.message)).toMatch(/nothing was recorded or charged/);
          expect(o.retryAfter).toBeGreaterThan(0);
        }
        expect(h.bedrock.calls).toHaveLength(0);
        expect(await t2.records()).toEqual([]);
        expect(await t2.counter()).toEqual({});
      });

      it('F8: DynamoDB down while settling: callers get their answers, records are complete, the counter is reconciled from them', async () => {
        const t = await h.tenant(noCascade);
        // Settlements (the conditional counter update that removes reservations) fail; reservations succeed.
        h.proxy.inject((c) =>
          c.operation === 'UpdateItem' && touchesUsageCounter(c) && String(c.body.UpdateExpression).includes('REMOVE')
            ? INTERNAL_ERROR
            : undefined,
        );
        const out = await run(t);
        expect(h.proxy.faults('UpdateItem')).toBeGreaterThanOrEqual(N);
        h.proxy.clear();
        expect(out.every((o) => o.status === 200 && typeof o.body.output === 'string')).toBe(true);
        const records = await t.records();
        expect(records.every((r) => r.status === 'completed')).toBe(true);
        // Before reconciliation the counter still holds the reservations: the budget stays conservative.
        const before = await t.counter();
        expect(Object.keys(before).filter((k) => k.startsWith('rsv_'))).toHaveLength(N);
        expect(before.committedNanoUsd).toBeGreaterThan(records.reduce((n, r) => n + (r.costNanoUsd as number), 0));
        // Later (reservations older than any Lambda run), the usage read reconciles them from the records.
        h.clockOffsetMs = 6 * 60_000;
        const usage = await t.service.getUsage();
        expect((usage.body as { requests: number }).requests).toBe(N);
        checkLedger({ records, counter: await t.counter(), outcomes: out, harness: h, allowedStatuses: ['completed'] });
        // Reconciling again changes nothing.
        expect(await t.service.reconcile(new Date(Date.now() + h.clockOffsetMs).toISOString().slice(0, 7))).toEqual({
          settled: 0,
          released: 0,
        });
      });

      it('F9: the same idempotency key twice at once: one record and one model call per key', async () => {
        const t = await h.tenant(noCascade);
        h.bedrock.scriptDefault({ kind: 'answer', text: 'Once.', latencyMs: 30 });
        const out = await inBatches(2 * N, 20, (i) =>
          outcomeOf(
            t.service.infer(
              { prompt: prompt(i >> 1), tier: 'fast', idempotencyKey: `key-${i >> 1}` },
              { deadlineMs: Date.now() + 20_000 },
            ),
          ),
        );
        const records = await t.records();
        expect(records).toHaveLength(N);
        expect(h.bedrock.calls).toHaveLength(N);
        for (let k = 0; k < N; k++) {
          const pair = [out[2 * k]!, out[2 * k + 1]!];
          expect(pair[0]!.requestId).toBe(pair[1]!.requestId);
          // One answers; the other is either the replay (200) or told the first is still running (409, retry).
          for (const o of pair) expect([200, 409]).toContain(o.status);
          expect(pair.some((o) => o.status === 200)).toBe(true);
          for (const o of pair.filter((x) => x.status === 409)) expect(o.code).toBe('request_in_progress');
        }
        checkLedger({ records, counter: await t.counter(), outcomes: out, harness: h, allowedStatuses: ['completed'] });
      });

      it('F11: DynamoDB applies a conditional write but its response is lost: the SDK retry is recognised as our own write, nothing doubled or stuck', async () => {
        // Each request loses the response of one of its conditional writes (create, reserve, finish, settle
        // in turn): dynalite applies it, the caller gets a 500, the SDK retries the identical call, and that
        // retry's condition fails against the call's own write. (One per request: every such retry costs the
        // SDK's retry quota, which a burst of them would drain, ending in a visible ledger_unavailable.)
        const kinds = ['create', 'reserve', 'finish', 'settle'] as const;
        const kindOf = (c: DynamoCall): (typeof kinds)[number] | 'reopen' | undefined => {
          if (!c.body.ConditionExpression) return undefined;
          if (c.operation === 'PutItem') return 'create';
          if (c.operation !== 'UpdateItem') return undefined;
          const update = String(c.body.UpdateExpression);
          if (touchesUsageCounter(c)) return update.includes('REMOVE') ? 'settle' : 'reserve';
          return String(c.body.ConditionExpression).includes(':failed') ? 'reopen' : 'finish';
        };
        const ordinals = new Map<string, number>();
        const lost = new Set<string>();
        const loseOneResponsePerRequest = (alsoReopen: boolean) =>
          h.proxy.inject((c) => {
            const kind = kindOf(c);
            const requestId = /req_[A-Za-z0-9_-]{10,40}/.exec(JSON.stringify(c.body))?.[0];
            if (!kind || !requestId) return undefined;
            if (!ordinals.has(requestId)) ordinals.set(requestId, ordinals.size);
            const wanted = alsoReopen ? 'reopen' : kinds[ordinals.get(requestId)! % kinds.length];
            if (kind !== wanted || lost.has(requestId)) return undefined;
            lost.add(requestId);
            return { ...INTERNAL_ERROR, afterApplying: true };
          });

        const t = await h.tenant(noCascade, { ownDynamoClient: true });
        h.bedrock.scriptDefault({ kind: 'answer', text: 'Applied once.' });
        loseOneResponsePerRequest(false);
        const out = await run(t, { key: (i) => (i % 2 === 0 ? `lost-${i}` : undefined) });
        expect(h.proxy.faults()).toBe(N);
        for (const o of out) expect([o.status, o.code]).toEqual([200, undefined]);
        let records = await t.records();
        expect(records.every((r) => r.status === 'completed')).toBe(true);
        checkLedger({ records, counter: await t.counter(), outcomes: out, harness: h, allowedStatuses: ['completed'] });

        // Keyed requests that failed, retried with the same key while the reopen's response is lost: each is
        // reopened once, completed once, charged once.
        h.proxy.clear();
        const t2 = await h.tenant(noCascade, { ownDynamoClient: true });
        for (const m of ALL_MODELS)
          h.bedrock.script(m, { kind: 'error', errorType: 'ServiceUnavailableException', status: 503 });
        const failed = await run(t2, { key: (i) => `retry-${i}` });
        expect(failed.every((o) => o.status === 503)).toBe(true);
        h.bedrock.reset();
        h.bedrock.scriptDefault({ kind: 'answer', text: 'Second run.' });
        lost.clear();
        loseOneResponsePerRequest(true);
        const retried = await run(t2, { key: (i) => `retry-${i}` });
        expect(h.proxy.faults()).toBe(N);
        for (const o of retried) expect([o.status, o.body?.output]).toEqual([200, 'Second run.']);
        records = await t2.records();
        expect(records).toHaveLength(N);
        expect(records.every((r) => r.status === 'completed' && r.runs === 2)).toBe(true);
        checkLedger({
          records,
          counter: await t2.counter(),
          outcomes: retried,
          harness: h,
          allowedStatuses: ['completed'],
        });
      });

      it('F12: DynamoDB hangs while the outcome is written: the writes are cut off in time, the caller is told, the reconciler closes the runs', async () => {
        const t = await h.tenant(noCascade, { ownDynamoClient: true });
        h.bedrock.scriptDefault({ kind: 'answer', text: 'Answered, but not recorded.' });
        // The outcome write (conditional on the run owning the in-progress record) never gets an answer.
        h.proxy.inject((c) =>
          c.operation === 'UpdateItem' && String(c.body.ConditionExpression).includes('#runId = :runId')
            ? HANG
            : undefined,
        );
        const started = Date.now();
        const out = await run(t, { recordMs: 1_000 });
        // 5 batches of 10, each cut off about a second after its writes began.
        expect(Date.now() - started).toBeLessThan(5 * 1_000 + 4_000);
        h.proxy.clear();
        for (const o of out) {
          expect([o.status, o.code]).toEqual([503, 'ledger_unavailable']);
          expect(o.requestId).toMatch(/^req_/);
          expect(o.retryAfter).toBeGreaterThan(0);
        }
        // Until reconciled the records say in_progress and the budget holds their worst case.
        expect((await t.records()).every((r) => r.status === 'in_progress')).toBe(true);
        h.clockOffsetMs = 6 * 60_000;
        const month = new Date(Date.now() + h.clockOffsetMs).toISOString().slice(0, 7);
        expect(await t.service.reconcile(month)).toEqual({ settled: 0, released: N });
        const records = await t.records();
        for (const r of records) expect((r.error as { code: string }).code).toBe('interrupted');
        // The outcome never reached the ledger, so the tenant is not charged for answers it never received
        // (the platform absorbs that model cost; see the README's known limits).
        checkLedger({ records, counter: await t.counter(), outcomes: out, allowedStatuses: ['failed'] });
        expect(h.usedNanoUsd()).toBeGreaterThan(0);
      });

      it('F13: DynamoDB applies a write, then fails the call and every retry: the write is found and accounted for', async () => {
        // The first time a matching write arrives it is applied and answered with a 500; every retry gets a
        // 500 too, so the SDK gives up and the caller sees an error although the write is in the table.
        const appliedThenFailing = (match: (c: DynamoCall) => boolean) => {
          const seen = new Set<string>();
          h.proxy.inject((c) => {
            if (!match(c)) return undefined;
            const sig = JSON.stringify(c.body);
            if (seen.has(sig)) return INTERNAL_ERROR;
            seen.add(sig);
            return { ...INTERNAL_ERROR, afterApplying: true };
          });
        };

        // (a) The escalation's budget top-up: it is held in the table, but the run cannot know. That model is
        // skipped, the tier's fallback gets a reservation of its own (a new id) and answers, and the uncertain
        // reservation is released at the end instead of staying open (or being charged by the reconciler).
        const t = await h.tenant(
          { escalation: { confidenceThreshold: 0.6, reviewThreshold: 0 } },
          { ownDynamoClient: true },
        );
        h.bedrock.script(FAST, { kind: 'answer', text: 'The quarter', stopReason: 'max_tokens' });
        h.bedrock.scriptDefault({ kind: 'answer', text: 'The quarter closed up 4%.' });
        appliedThenFailing(
          (c) =>
            c.operation === 'UpdateItem' &&
            touchesUsageCounter(c) &&
            !String(c.body.UpdateExpression).includes('REMOVE') &&
            /\.2$/.test(String((c.body.ExpressionAttributeNames as Record<string, string>)['#rsv'])),
        );
        const out = await run(t);
        h.proxy.clear();
        for (const o of out) expect([o.status, o.body.output]).toEqual([200, 'The quarter closed up 4%.']);
        let records = await t.records();
        for (const r of records) {
          expect(attemptsOf(r).map((a) => [a.modelId, a.outcome])).toEqual([
            [FAST, 'ok'],
            [BALANCED_ALT, 'ok'],
          ]);
        }
        checkLedger({ records, counter: await t.counter(), outcomes: out, harness: h, allowedStatuses: ['completed'] });

        // (b) Creating the record: it is in the table, so the request was accepted after all and is answered,
        // instead of a 503 that leaves a record stuck in progress under its key.
        const t2 = await h.tenant(noCascade, { ownDynamoClient: true });
        h.bedrock.reset();
        h.bedrock.scriptDefault({ kind: 'answer', text: 'Recorded after all.' });
        appliedThenFailing((c) => c.operation === 'PutItem');
        const out2 = await run(t2, { key: (i) => `applied-${i}` });
        h.proxy.clear();
        for (const o of out2) expect([o.status, o.body.output]).toEqual([200, 'Recorded after all.']);
        records = await t2.records();
        expect(records.every((r) => r.status === 'completed')).toBe(true);
        checkLedger({
          records,
          counter: await t2.counter(),
          outcomes: out2,
          harness: h,
          allowedStatuses: ['completed'],
        });
      });

      it('F10: a model slower than the deadline is cut off in time for the fallback; when all are slow, 504 before the deadline', async () => {
        const t = await h.tenant(noCascade);
        h.bedrock.script(FAST, { kind: 'hang' });
        h.bedrock.script(FAST_ALT, { kind: 'answer', text: 'In time.' });
        const started = Date.now();
        const out = await run(t, { deadlineMs: 3_000 });
        expect(Date.now() - started).toBeLessThan(3_000 * Math.ceil(N / 10) + 1_000);
        expect(out.every((o) => o.status === 200 && o.body.modelId === FAST_ALT)).toBe(true);
        const records = await t.records();
        for (const r of records) expect(attemptsOf(r).map((a) => a.outcome)).toEqual(['timeout', 'ok']);
        checkLedger({ records, counter: await t.counter(), outcomes: out, harness: h, allowedStatuses: ['completed'] });

        // Everything slow: each request ends before its deadline with a clear 504 and a failed record.
        const t2 = await h.tenant(noCascade);
        h.bedrock.reset();
        h.bedrock.scriptDefault({ kind: 'hang' });
        const deadline = 2_500;
        const timed = await inBatches(N, 25, async (i) => {
          const s = Date.now();
          const o = await outcomeOf(
            t2.service.infer({ prompt: prompt(i), tier: 'fast' }, { deadlineMs: Date.now() + deadline }),
          );
          return { ...o, ms: Date.now() - s };
        });
        for (const o of timed) {
          expect(o.status).toBe(504);
          expect(o.code).toBe('model_timeout');
          // The deadline leaves the handler's record reserve; finishing the record takes far less.
          expect(o.ms).toBeLessThan(deadline + 1_500);
        }
        const failed = await t2.records();
        expect(
          failed.every((r) => r.status === 'failed' && (r.error as { code: string }).code === 'model_timeout'),
        ).toBe(true);
        checkLedger({ records: failed, counter: await t2.counter(), outcomes: timed, allowedStatuses: ['failed'] });
      });
    });

    describe('call deadlines (README "Fallbacks and deadlines")', () => {
      /** A tenant whose model calls are seen on their way to Bedrock: when each started and the deadline it was given. */
      async function watched() {
        const calls: Array<{ modelId: string; allowedMs: number; leftAfterMs: number }> = [];
        let requestDeadline = 0;
        const t = await h.tenant(noCascade, {
          wrapInvoker: (inner) => ({
            converse: (call) => {
              const now = Date.now();
              calls.push({
                modelId: call.modelId,
                allowedMs: call.deadlineMs - now,
                leftAfterMs: requestDeadline - call.deadlineMs,
              });
              return inner.converse(call);
            },
          }),
        });
        const ask = (msLeft: number) => {
          requestDeadline = Date.now() + msLeft;
          return outcomeOf(t.service.infer({ prompt: prompt(0), tier: 'fast' }, { deadlineMs: requestDeadline }));
        };
        return { calls, ask };
      }

      it('with 26 s left the first call gets 16 s and leaves 10 s for the fallback, which answers within them', async () => {
        const { calls, ask } = await watched();
        h.bedrock.script(FAST, { kind: 'error', status: 429, errorType: 'ThrottlingException' });
        h.bedrock.script(FAST_ALT, { kind: 'answer', text: 'From the fallback.' });
        const o = await ask(26_000);
        expect([o.status, o.body.modelId]).toEqual([200, FAST_ALT]);
        expect(calls.map((c) => c.modelId)).toEqual([FAST, FAST_ALT]);
        // 10 s are kept back exactly; the call itself may use the rest (16 s, less the few ms spent reserving).
        expect(calls[0]!.leftAfterMs).toBe(10_000);
        expect(calls[0]!.allowedMs).toBeGreaterThan(15_800);
        expect(calls[0]!.allowedMs).toBeLessThanOrEqual(16_000);
        expect(calls[1]!.leftAfterMs).toBeGreaterThanOrEqual(0);
      });

      it('with less time left a call may use 60% of it (12 s of 20 s), more than all but 10 s', async () => {
        const { calls, ask } = await watched();
        h.bedrock.scriptDefault({ kind: 'answer', text: 'In time.' });
        expect((await ask(20_000)).status).toBe(200);
        expect(calls[0]!.allowedMs).toBeGreaterThan(11_800);
        expect(calls[0]!.allowedMs).toBeLessThanOrEqual(12_000);
        // 40% of what was left when it started is kept back.
        expect(calls[0]!.leftAfterMs).toBeGreaterThan(7_900);
        expect(calls[0]!.leftAfterMs).toBeLessThanOrEqual(8_000);
      });
    });

    describe('records the ledger cannot store', () => {
      // Validation refuses such bodies first (e2e.test.ts); here the service is called directly, past it, to show
      // that whatever still reaches the ledger unrepresentable is the caller's 400, never a 503 to retry forever.
      it('a record the marshaller or DynamoDB refuses is 400 invalid_request: no record, no charge, no model call, the hold released', async () => {
        const t = await h.tenant(noCascade);
        const before = await t.counter();
        const cases: Array<{ metadata: Record<string, string>; fault?: boolean }> = [
          { metadata: { constructor: 'x' } },
          { metadata: { n: Number.NaN as unknown as string } },
          // DynamoDB itself refusing the item (as it does past 400 KB): ValidationException.
          { metadata: { caller: 'ok' }, fault: true },
        ];
        for (const c of cases) {
          if (c.fault)
            h.proxy.inject((call) =>
              call.operation === 'PutItem' ? { status: 400, type: 'ValidationException' } : undefined,
            );
          const o = await outcomeOf(
            t.service.inferPastValidation(
              { prompt: 'store me', tier: 'fast', metadata: c.metadata },
              { deadlineMs: Date.now() + 20_000 },
            ),
          );
          h.proxy.clear();
          expect([o.status, o.code]).toEqual([400, 'invalid_request']);
          expect(String(o.body.message)).toContain('nothing was recorded or charged');
        }
        expect(await t.records()).toEqual([]);
        expect(h.bedrock.calls).toHaveLength(0);
        const after = await t.counter();
        expect(Object.keys(after).filter((k) => k.startsWith('rsv_'))).toEqual([]);
        expect(after.committedNanoUsd ?? 0).toBe(before.committedNanoUsd ?? 0);
        // The tenant's next request is unaffected.
        const ok = await outcomeOf(
          t.service.infer({ prompt: 'store me', tier: 'fast' }, { deadlineMs: Date.now() + 20_000 }),
        );
        expect(ok.status).toBe(200);
        checkLedger({ records: await t.records(), counter: await t.counter(), outcomes: [ok], harness: h });
      });
    });
  });
}
