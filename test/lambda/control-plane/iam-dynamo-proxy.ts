/**
 * IAM in front of dynalite, for the purge tests: a loopback proxy that finds the caller of each DynamoDB request
 * (the control plane's own key, or a tenant session from the STS stand-in, by its session token), builds the IAM
 * request context DynamoDB would (`dynamodb:LeadingKeys` of every key, `dynamodb:Select`, `dynamodb:Attributes`),
 * evaluates the caller's policy statements with test/support/iam-eval.ts, and forwards the request only when they
 * allow it; otherwise it answers AccessDeniedException as DynamoDB does. Every decision is recorded.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StatementJson } from '../../lib/template-utils';
import { allows, type IamRequest } from '../../support/iam-eval';

/** Who signed a request, and what they may do. */
export interface IamPrincipal {
  readonly name: string;
  readonly statements: readonly StatementJson[];
  /** Principal tags (a tenant session's `switchboard:tenant`). */
  readonly tags?: Readonly<Record<string, string>>;
}

/** One request the proxy decided. */
export interface IamDecision {
  readonly operation: string;
  readonly principal: string;
  readonly allowed: boolean;
  readonly context: IamRequest['context'];
}

/** The IAM context of a DynamoDB JSON request body. */
function contextOf(operation: string, body: Record<string, unknown>): Record<string, string | string[]> {
  const pk = (key: unknown) => String((key as { pk?: { S?: string } } | undefined)?.pk?.S ?? '');
  const context: Record<string, string | string[]> = {};
  if (operation === 'BatchWriteItem') {
    const requests = Object.values((body.RequestItems ?? {}) as Record<string, unknown[]>).flat() as Array<{
      DeleteRequest?: { Key: unknown };
      PutRequest?: { Item: unknown };
    }>;
    context['dynamodb:LeadingKeys'] = requests.map((r) => pk(r.DeleteRequest?.Key ?? r.PutRequest?.Item));
  } else if (body.Key || body.Item) {
    context['dynamodb:LeadingKeys'] = [pk(body.Key ?? body.Item)];
  }
  if (typeof body.Select === 'string') context['dynamodb:Select'] = body.Select;
  if (typeof body.ProjectionExpression === 'string') {
    const names = (body.ExpressionAttributeNames ?? {}) as Record<string, string>;
    context['dynamodb:Attributes'] = body.ProjectionExpression.split(',').map((a) => {
      const t = a.trim();
      return names[t] ?? t;
    });
  }
  return context;
}

export class IamDynamoProxy {
  readonly decisions: IamDecision[] = [];
  private server?: http.Server;

  constructor(
    private readonly target: string,
    /** The table's ARN as the statements name it, by table name. */
    private readonly tableArns: Readonly<Record<string, string>>,
    /** The principal of a request: by its access key id and session token; undefined for an unknown caller. */
    private readonly principalOf: (accessKeyId: string, sessionToken: string | undefined) => IamPrincipal | undefined,
  ) {}

  async start(): Promise<string> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return this.endpoint;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
      const accessKeyId = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
      const token = req.headers['x-amz-security-token'] as string | undefined;
      const principal = this.principalOf(accessKeyId, token);
      const tables = operation === 'BatchWriteItem' ? Object.keys(body.RequestItems ?? {}) : [String(body.TableName)];
      const context = {
        ...contextOf(operation, body),
        ...Object.fromEntries(Object.entries(principal?.tags ?? {}).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
      };
      const allowed =
        !!principal &&
        tables.every((t) =>
          allows(principal.statements, { action: `dynamodb:${operation}`, resource: this.tableArns[t] ?? t, context }),
        );
      this.decisions.push({ operation, principal: principal?.name ?? `unknown ${accessKeyId}`, allowed, context });
      if (!allowed) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException',
            message: `User: ${principal?.name ?? accessKeyId} is not authorized to perform: dynamodb:${operation}`,
          }),
        );
        return;
      }
      this.forward(req, raw, res);
    });
  }

  private forward(req: http.IncomingMessage, raw: Buffer, res: http.ServerResponse): void {
    const url = new URL(this.target);
    const out = http.request(
      { host: url.hostname, port: url.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 500, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.writeHead(502).end());
    out.end(raw);
  }
}
