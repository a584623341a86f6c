/**
 * A Bedrock Runtime stand-in on loopback: an HTTP/2 cleartext (h2c) server, because the SDK's Bedrock
 * client speaks HTTP/2, answering `POST /model/{modelId}/converse` in the Converse wire format. Each model
 * can be scripted: answer text, token counts, latency, and failures (throttling, not ready, 5xx,
 * validation errors, hanging past a deadline). Every call is recorded, its `guardrailConfig` included.
 *
 * Guardrails, as Converse reports them (stop reason `guardrail_intervened`, `trace.guardrail` with the
 * assessments and the text units evaluated): a call with a guardrail is billed content and sensitive-information
 * units for what the guardrail evaluates (every message, and `guardContent` system blocks; not plain system
 * text), prompt and answer. A scripted `guardrail` action, or a marker ({@link STUB_GUARDRAIL_MARKERS}) in the
 * evaluated prompt, makes it intervene: a blocked prompt (no model runs, no tokens), a blocked answer (the model ran
 * and is billed) or an answer with e-mail addresses masked. `requireGuardrail` refuses calls without the given
 * guardrail version with AccessDeniedException, as the function's IAM condition would.
 */
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { GUARDRAIL_TEXT_UNIT_CHARS, type GuardrailUnits } from '../lambda/shared/catalog';
import { GUARDRAIL_BLOCKED_MESSAGES } from '../lib/config/guardrail-policy';

/** Text that, in the evaluated prompt, makes the stand-in's guardrail intervene. */
export const STUB_GUARDRAIL_MARKERS = {
  blockInput: '[[stub-guardrail:prompt-attack]]',
  blockOutput: '[[stub-guardrail:violent-answer]]',
  anonymizeOutput: '[[stub-guardrail:answer-with-email]]',
} as const;

/** What the stand-in's guardrail does on a call. */
export type StubGuardrailAction = 'none' | 'block-input' | 'block-output' | 'anonymize-output';

/** What a model does on one call. */
export type ModelBehaviour =
  | {
      readonly kind: 'answer';
      readonly text?: string;
      readonly inputTokens?: number;
      readonly outputTokens?: number;
      readonly stopReason?: string;
      readonly latencyMs?: number;
      /** What the guardrail does (default: what a marker in the prompt says, else nothing). */
      readonly guardrail?: StubGuardrailAction;
    }
  | {
      readonly kind: 'error';
      /** `ThrottlingException`, `ModelNotReadyException`, `ServiceUnavailableException`, `ValidationException`, ... */
      readonly errorType: string;
      readonly status: number;
      readonly message?: string;
      readonly latencyMs?: number;
    }
  /** Accepts the call and never answers (until the client gives up). */
  | { readonly kind: 'hang' };

/** A scripted model: a fixed behaviour, or a function of the call number (1-based) and the request. */
export type ModelScript =
  | ModelBehaviour
  | ((call: number, request: ConverseRequestBody, modelId: string) => ModelBehaviour);

/** A content block as the SDK sends it: text, or text the guardrail is asked to evaluate. */
export interface ContentBlockBody {
  readonly text?: string;
  readonly guardContent?: { readonly text?: { readonly text?: string } };
}

/** The Converse request body as the SDK sends it. */
export interface ConverseRequestBody {
  readonly messages: Array<{ role: string; content: ContentBlockBody[] }>;
  readonly system?: ContentBlockBody[];
  readonly inferenceConfig?: { maxTokens?: number };
  readonly guardrailConfig?: { guardrailIdentifier?: string; guardrailVersion?: string; trace?: string };
}

/** The text of a block, plain or guarded. */
export const blockText = (b: ContentBlockBody): string => b.text ?? b.guardContent?.text?.text ?? '';

export interface RecordedCall {
  readonly modelId: string;
  readonly body: ConverseRequestBody;
  readonly at: number;
}

/** Default behaviour: a short answer whose token counts follow the text lengths. */
export const ECHO: ModelBehaviour = { kind: 'answer' };

/** A call the stub answered (what a tenant would be billed for). */
export interface AnsweredCall {
  readonly modelId: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Guardrail text units of the call (absent without a guardrail). */
  readonly guardrailUnits?: GuardrailUnits;
  /** What the guardrail did. */
  readonly guardrail?: StubGuardrailAction;
}

export class BedrockStub {
  readonly calls: RecordedCall[] = [];
  readonly answered: AnsweredCall[] = [];
  private readonly scripts = new Map<string, ModelScript>();
  private readonly counts = new Map<string, number>();
  private server?: http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly hanging = new Set<http2.Http2ServerResponse>();
  private defaultScript: ModelScript = ECHO;
  /** Recorded calls kept (the oldest are dropped beyond it): a long-running sandbox keeps memory bounded. */
  maxRecorded = Number.POSITIVE_INFINITY;
  /** When set, calls without this guardrail version are refused (AccessDeniedException), like IAM would. */
  requireGuardrail?: { readonly arn: string; readonly version: string };

  /** Starts on 127.0.0.1 on a free port; returns the endpoint URL. */
  async start(port = 0): Promise<string> {
    const server = http2.createServer();
    server.on('session', (s) => {
      this.sessions.add(s);
      s.on('close', () => this.sessions.delete(s));
    });
    server.on('request', (req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.server = server;
    return this.endpoint;
  }

  get endpoint(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('BedrockStub not started');
    return `http://127.0.0.1:${addr.port}`;
  }

  /** Scripts one model (by the id the client sends). */
  script(modelId: string, script: ModelScript): this {
    this.scripts.set(modelId, script);
    return this;
  }

  /** Scripts every model without a script of its own. */
  scriptDefault(script: ModelScript): this {
    this.defaultScript = script;
    return this;
  }

  /** Forgets scripts, counters and recorded calls. */
  reset(): void {
    this.scripts.clear();
    this.counts.clear();
    this.calls.length = 0;
    this.answered.length = 0;
    this.defaultScript = ECHO;
    this.requireGuardrail = undefined;
  }

  callsTo(modelId: string): RecordedCall[] {
    return this.calls.filter((c) => c.modelId === modelId);
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.stream.close();
    for (const s of this.sessions) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const m = /^\/model\/(.+)\/converse$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) {
        this.sendError(res, 404, 'UnknownOperationException', `No route ${req.method} ${req.url}`);
        return;
      }
      const modelId = decodeURIComponent(m[1]!);
      let body: ConverseRequestBody;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        this.sendError(res, 400, 'ValidationException', 'Malformed JSON');
        return;
      }
      this.calls.push({ modelId, body, at: Date.now() });
      if (this.calls.length > this.maxRecorded) this.calls.shift();
      if (this.answered.length > this.maxRecorded) this.answered.shift();
      const g = body.guardrailConfig;
      if (
        this.requireGuardrail &&
        (g?.guardrailIdentifier !== this.requireGuardrail.arn || g?.guardrailVersion !== this.requireGuardrail.version)
      ) {
        this.sendError(res, 403, 'AccessDeniedException', 'explicit deny: bedrock:GuardrailIdentifier does not match');
        return;
      }
      const n = (this.counts.get(modelId) ?? 0) + 1;
      this.counts.set(modelId, n);
      const script = this.scripts.get(modelId) ?? this.defaultScript;
      const behaviour = typeof script === 'function' ? script(n, body, modelId) : script;
      this.respond(res, modelId, body, behaviour);
    });
  }

  private respond(res: http2.Http2ServerResponse, modelId: string, body: ConverseRequestBody, b: ModelBehaviour) {
    if (b.kind === 'hang') {
      this.hanging.add(res);
      res.stream.on('close', () => this.hanging.delete(res));
      return;
    }
    const send = () => {
      if (res.stream.destroyed || res.stream.closed) return;
      if (b.kind === 'error') {
        this.sendError(res, b.status, b.errorType, b.message ?? `${b.errorType} from stub`);
        return;
      }
      const promptText = [...(body.system ?? []), ...body.messages.flatMap((msg) => msg.content)]
        .map(blockText)
        .join(' ');
      const guarded = body.guardrailConfig?.guardrailIdentifier !== undefined;
      // What the guardrail evaluates: every message, and the system blocks marked guardContent.
      const evaluated = [
        ...(body.system ?? []).filter((c) => c.guardContent).map(blockText),
        ...body.messages.flatMap((msg) => msg.content.map(blockText)),
      ];
      const action: StubGuardrailAction = !guarded ? 'none' : (b.guardrail ?? markerAction(evaluated.join('\n')));
      const units = (texts: string[]) => texts.reduce((u, t) => u + Math.ceil(t.length / GUARDRAIL_TEXT_UNIT_CHARS), 0);
      let text = b.text ?? `stub answer from ${modelId}`;
      let inputTokens = b.inputTokens ?? Math.max(1, Math.ceil(promptText.length / 4));
      let outputTokens = b.outputTokens ?? Math.max(1, Math.ceil(text.length / 4));
      const inputUnits = units(evaluated);
      // The answer is evaluated unless the prompt was blocked (then no model runs).
      const outputUnits = action === 'block-input' ? 0 : units([text]);
      if (action === 'block-input') {
        text = GUARDRAIL_BLOCKED_MESSAGES.input;
        inputTokens = 0;
        outputTokens = 0;
      } else if (action === 'block-output') {
        text = GUARDRAIL_BLOCKED_MESSAGES.output;
      }
      let matched: string | undefined;
      if (action === 'anonymize-output') {
        text = text.replace(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g, (m) => {
          matched = matched ?? m;
          return '{EMAIL}';
        });
      }
      const guardrailUnits: GuardrailUnits | undefined = guarded
        ? { content: inputUnits + outputUnits, sensitiveInformation: inputUnits + outputUnits }
        : undefined;
      this.answered.push({
        modelId,
        inputTokens,
        outputTokens,
        ...(guardrailUnits ? { guardrailUnits, guardrail: action } : {}),
      });
      const trace =
        guarded && body.guardrailConfig?.trace?.startsWith('enabled')
          ? {
              guardrail: guardrailTrace(
                body.guardrailConfig.guardrailIdentifier!,
                action,
                inputUnits,
                outputUnits,
                matched,
              ),
            }
          : undefined;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          output: { message: { role: 'assistant', content: [{ text }] } },
          stopReason: action === 'none' ? (b.stopReason ?? 'end_turn') : 'guardrail_intervened',
          usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
          metrics: { latencyMs: b.latencyMs ?? 1 },
          ...(trace ? { trace } : {}),
        }),
      );
    };
    const delay = b.latencyMs ?? 0;
    if (delay > 0) setTimeout(send, delay);
    else send();
  }

  private sendError(res: http2.Http2ServerResponse, status: number, type: string, message: string): void {
    res.writeHead(status, {
      'content-type': 'application/json',
      'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    });
    res.end(JSON.stringify({ message }));
  }
}

/** The guardrail action a marker in the evaluated prompt asks for. */
function markerAction(evaluated: string): StubGuardrailAction {
  if (evaluated.includes(STUB_GUARDRAIL_MARKERS.blockInput)) return 'block-input';
  if (evaluated.includes(STUB_GUARDRAIL_MARKERS.blockOutput)) return 'block-output';
  if (evaluated.includes(STUB_GUARDRAIL_MARKERS.anonymizeOutput)) return 'anonymize-output';
  return 'none';
}

/** `trace.guardrail` of a Converse response, keyed by the guardrail id, as Bedrock writes it. */
function guardrailTrace(
  identifier: string,
  action: StubGuardrailAction,
  inputUnits: number,
  outputUnits: number,
  matched = 'someone@example.com',
) {
  const id = identifier.slice(identifier.lastIndexOf('/') + 1);
  const metrics = (u: number) => ({
    guardrailProcessingLatency: 1,
    usage: {
      topicPolicyUnits: 0,
      contentPolicyUnits: u,
      wordPolicyUnits: 0,
      sensitiveInformationPolicyUnits: u,
      sensitiveInformationPolicyFreeUnits: 0,
      contextualGroundingPolicyUnits: 0,
    },
    guardrailCoverage: {
      textCharacters: { guarded: u * GUARDRAIL_TEXT_UNIT_CHARS, total: u * GUARDRAIL_TEXT_UNIT_CHARS },
    },
  });
  const input = {
    ...(action === 'block-input'
      ? {
          contentPolicy: {
            filters: [
              { type: 'PROMPT_ATTACK', confidence: 'HIGH', filterStrength: 'HIGH', action: 'BLOCKED', detected: true },
            ],
          },
        }
      : {}),
    invocationMetrics: metrics(inputUnits),
  };
  const output = {
    ...(action === 'block-output'
      ? {
          contentPolicy: {
            filters: [
              { type: 'VIOLENCE', confidence: 'HIGH', filterStrength: 'MEDIUM', action: 'BLOCKED', detected: true },
            ],
          },
        }
      : {}),
    ...(action === 'anonymize-output'
      ? {
          sensitiveInformationPolicy: {
            piiEntities: [{ match: matched, type: 'EMAIL', action: 'ANONYMIZED', detected: true }],
          },
        }
      : {}),
    invocationMetrics: metrics(outputUnits),
  };
  return {
    inputAssessment: { [id]: input },
    ...(action === 'block-input' ? {} : { outputAssessments: { [id]: [output] } }),
    ...(action === 'none' ? {} : { actionReason: 'Guardrail blocked.' }),
  };
}
