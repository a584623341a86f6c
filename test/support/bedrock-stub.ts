/**
 * A Bedrock Runtime stand-in on loopback: an HTTP/2 cleartext (h2c) server, because the SDK's Bedrock
 * client speaks HTTP/2, answering `POST /model/{modelId}/converse` in the Converse wire format. Each model
 * can be scripted: answer text, token counts, latency, and failures (throttling, not ready, 5xx,
 * validation errors, hanging past a deadline). Every call is recorded.
 */
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

/** What a model does on one call. */
export type ModelBehaviour =
  | {
      readonly kind: 'answer';
      readonly text?: string;
      readonly inputTokens?: number;
      readonly outputTokens?: number;
      readonly stopReason?: string;
      readonly latencyMs?: number;
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
export type ModelScript = ModelBehaviour | ((call: number, request: ConverseRequestBody) => ModelBehaviour);

/** The Converse request body as the SDK sends it. */
export interface ConverseRequestBody {
  readonly messages: Array<{ role: string; content: Array<{ text?: string }> }>;
  readonly system?: Array<{ text?: string }>;
  readonly inferenceConfig?: { maxTokens?: number };
}

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

  /** Starts on 127.0.0.1 on a free port; returns the endpoint URL. */
  async start(): Promise<string> {
    const server = http2.createServer();
    server.on('session', (s) => {
      this.sessions.add(s);
      s.on('close', () => this.sessions.delete(s));
    });
    server.on('request', (req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
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
      const n = (this.counts.get(modelId) ?? 0) + 1;
      this.counts.set(modelId, n);
      const script = this.scripts.get(modelId) ?? this.defaultScript;
      const behaviour = typeof script === 'function' ? script(n, body) : script;
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
        .map((c) => c.text ?? '')
        .join(' ');
      const text = b.text ?? `stub answer from ${modelId}`;
      const inputTokens = b.inputTokens ?? Math.max(1, Math.ceil(promptText.length / 4));
      const outputTokens = b.outputTokens ?? Math.max(1, Math.ceil(text.length / 4));
      this.answered.push({ modelId, inputTokens, outputTokens });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          output: { message: { role: 'assistant', content: [{ text }] } },
          stopReason: b.stopReason ?? 'end_turn',
          usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
          metrics: { latencyMs: b.latencyMs ?? 1 },
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
