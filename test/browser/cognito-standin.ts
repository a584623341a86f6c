/**
 * Amazon Cognito's managed login on loopback, as much of it as the review console uses: the authorization code
 * grant with PKCE (S256) of an app client without a secret.
 *
 *   GET  /oauth2/authorize  response_type=code, client_id, redirect_uri (one of the client's callback URLs),
 *                           code_challenge_method=S256, code_challenge, state → 302 to redirect_uri?code=&state=
 *                           (the configured user has signed in, MFA included: the stand-in shows no form)
 *   POST /oauth2/token      grant_type=authorization_code, client_id, code, redirect_uri, code_verifier
 *                           (form-encoded; CORS for the console's origin) → {id_token, access_token, ...}
 *
 * A code works once, for its client and redirect URI, and only with the verifier whose SHA-256 is its challenge;
 * anything else is `400 {"error":"invalid_grant"}` (or `invalid_request`), as Cognito answers. The ID token carries
 * the claims Cognito puts there (`sub`, `email`, `cognito:username`, `cognito:groups`, `token_use`, `aud`, `iss`,
 * `exp`), signed HS256 with a key of this process (the console does not verify it; the review API's authorizer would).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import { LoopbackHttpServer } from '../../local/loopback-http-server';

/** The signed-in user. */
export interface CognitoUser {
  readonly sub: string;
  readonly email: string;
  readonly username: string;
  readonly groups: readonly string[];
}

/** What the stand-in was asked, for tests. */
export interface TokenExchange {
  readonly clientId: string;
  readonly verifierMatched: boolean;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export class CognitoStandIn extends LoopbackHttpServer {
  private readonly codes = new Map<string, { clientId: string; redirectUri: string; challenge: string }>();
  private readonly key = randomBytes(32);
  readonly exchanges: TokenExchange[] = [];

  constructor(
    private readonly client: { readonly clientId: string; readonly callbackUrls: readonly string[] },
    private readonly user: CognitoUser,
    /** The origin allowed to call the token endpoint from a browser. */
    private readonly corsOrigin: string,
  ) {
    super();
  }

  protected handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.endpoint);
    const cors: Record<string, string> =
      req.headers.origin === this.corsOrigin ? { 'access-control-allow-origin': this.corsOrigin, vary: 'Origin' } : {};
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...cors, ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...cors,
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'content-type',
      });
      res.end();
      return;
    }
    if (req.method === 'GET' && url.pathname === '/oauth2/authorize') {
      const q = url.searchParams;
      const redirectUri = q.get('redirect_uri') ?? '';
      if (q.get('client_id') !== this.client.clientId || !this.client.callbackUrls.includes(redirectUri)) {
        send(400, { error: 'invalid_request', error_description: 'unknown client or redirect_uri' });
        return;
      }
      const challenge = q.get('code_challenge') ?? '';
      if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || challenge.length < 43) {
        send(400, { error: 'invalid_request', error_description: 'code flow with an S256 challenge only' });
        return;
      }
      const code = randomBytes(16).toString('hex');
      this.codes.set(code, { clientId: this.client.clientId, redirectUri, challenge });
      const back = new URL(redirectUri);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state') ?? '');
      res.writeHead(302, { location: back.toString() });
      res.end();
      return;
    }
    if (req.method === 'POST' && url.pathname === '/oauth2/token') {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        raw += raw.length < 16_384 ? c : '';
      });
      req.on('end', () => {
        const form = new URLSearchParams(raw);
        const code = form.get('code') ?? '';
        const issued = this.codes.get(code);
        this.codes.delete(code);
        const verifier = form.get('code_verifier') ?? '';
        const verifierMatched = !!issued && b64url(createHash('sha256').update(verifier).digest()) === issued.challenge;
        this.exchanges.push({ clientId: form.get('client_id') ?? '', verifierMatched });
        if (
          form.get('grant_type') !== 'authorization_code' ||
          !issued ||
          issued.clientId !== form.get('client_id') ||
          issued.redirectUri !== form.get('redirect_uri') ||
          !verifierMatched
        ) {
          return send(400, { error: 'invalid_grant' });
        }
        const now = Math.floor(Date.now() / 1000);
        const idToken = this.jwt({
          sub: this.user.sub,
          email: this.user.email,
          email_verified: true,
          'cognito:username': this.user.username,
          'cognito:groups': [...this.user.groups],
          token_use: 'id',
          aud: this.client.clientId,
          iss: this.endpoint,
          auth_time: now,
          iat: now,
          exp: now + 3600,
        });
        send(200, {
          id_token: idToken,
          access_token: this.jwt({ sub: this.user.sub, token_use: 'access', client_id: this.client.clientId }),
          refresh_token: randomBytes(24).toString('hex'),
          expires_in: 3600,
          token_type: 'Bearer',
        });
      });
      return;
    }
    req.resume();
    send(404, { error: 'not_found' });
  }

  private jwt(claims: Record<string, unknown>): string {
    const head = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'standin' }))}.${b64url(JSON.stringify(claims))}`;
    return `${head}.${createHmac('sha256', this.key).update(head).digest('base64url')}`;
  }
}
