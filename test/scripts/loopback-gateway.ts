/**
 * The control plane API on loopback for the operator commands' tests (scripts/onboard.ts, scripts/control-plane.ts):
 * an HTTP server playing API Gateway in front of the real handler. As API Gateway does with an IAM-authorized API,
 * it checks each request's SigV4 signature (service `execute-api`), here with the SDK's own signer and the secrets
 * it is given, and answers 403 with the gateway's message when it does not match (or was made more than 5 minutes
 * away from the clock); it maps the path under the stage `/prod` to the API's resource, path parameters and query,
 * and names the signer as the caller (`arn:aws:iam::111122223333:user/<access key id>`).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { ControlPlaneDeps } from '../../lambda/control-plane/core/ports';
import { makeControlPlaneHandler } from '../../lambda/control-plane/http/handler';
import { makeTelemetry } from '../../lambda/shared/telemetry';
import { NodeSha256 } from '../support/sigv4-check';

/** A request as the gateway received it (signed or not). */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** The caller API Gateway names for a request signed with `accessKeyId`. */
export const callerOf = (accessKeyId: string) => `arn:aws:iam::111122223333:user/${accessKeyId}`;

/** What API Gateway answers a request whose signature does not match. */
export const BAD_SIGNATURE = 'The request signature we calculated does not match the signature you provided.';

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([a-z0-9-]+)\/execute-api\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$/;

/** The access key id of a request whose `authorization` is the one the SDK's signer computes for it, if any. */
async function signerOf(
  req: http.IncomingMessage,
  body: string,
  known: readonly AwsCredentialIdentity[],
): Promise<string | undefined> {
  const auth = String(req.headers.authorization ?? '');
  const m = AUTHORIZATION.exec(auth);
  const credentials = known.find((c) => c.accessKeyId === m?.[1]);
  const at = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(String(req.headers['x-amz-date'] ?? ''));
  if (!m || !credentials || !at) return undefined;
  const signedAt = new Date(`${at[1]}-${at[2]}-${at[3]}T${at[4]}:${at[5]}:${at[6]}Z`);
  // API Gateway refuses a signature more than 5 minutes away from its clock.
  if (Math.abs(signedAt.getTime() - Date.now()) > 5 * 60_000) return undefined;
  const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
  const headers: Record<string, string> = {};
  for (const name of m[3]!.split(';')) headers[name] = String(req.headers[name] ?? '');
  const signer = new SignatureV4({
    service: 'execute-api',
    region: m[2]!,
    credentials,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: req.method ?? '',
      protocol: 'http:',
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      ...(body ? { body } : {}),
    },
    { signingDate: signedAt },
  );
  return signed.headers.authorization === auth ? credentials.accessKeyId : undefined;
}

/** The proxy event API Gateway would pass for a request to `/prod/v1/tenants…`. */
function eventOf(req: http.IncomingMessage, body: string, caller: string): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://loopback');
  const p = url.pathname.replace(/^\/prod/, '');
  const [, id, sub = ''] = /^\/v1\/tenants\/([^/]+)(\/move)?$/.exec(p) ?? [];
  const query = Object.fromEntries(url.searchParams);
  return {
    resource: id !== undefined ? `/v1/tenants/{id}${sub}` : p,
    path: p,
    httpMethod: req.method,
    headers: { 'Content-Type': String(req.headers['content-type'] ?? '') },
    body: body || null,
    isBase64Encoded: false,
    pathParameters: id !== undefined ? { id: decodeURIComponent(id) } : null,
    queryStringParameters: Object.keys(query).length ? query : null,
    requestContext: { requestId: 'gw-1', identity: { userArn: caller } },
  } as unknown as APIGatewayProxyEvent;
}

/** The gateway: `start()` gives its endpoint (`http://127.0.0.1:<port>/prod`); `seen` is every request received. */
export function loopbackGateway(deps: () => ControlPlaneDeps, known: readonly AwsCredentialIdentity[]) {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const signer = await signerOf(req, body, known);
      if (!signer) {
        res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ message: BAD_SIGNATURE }));
        return;
      }
      const handler = makeControlPlaneHandler(deps(), makeTelemetry({ tenantId: 'cp', service: 'cp', sink: () => {} }));
      const out = await handler(eventOf(req, body, callerOf(signer)));
      res.writeHead(out.statusCode, out.headers as http.OutgoingHttpHeaders).end(out.body);
    });
  });
  return {
    seen,
    async start(): Promise<string> {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`;
    },
    async stop(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
