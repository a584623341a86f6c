/**
 * AWS STS on loopback (HTTP/1.1, Query protocol: form-encoded POST, XML answers), for `AssumeRole` with session
 * tags. It checks each request's SigV4 signature with the reference signer (`@smithy/signature-v4`, what the SDK
 * signs with) against the secret of the access key it names, refuses an AssumeRole without the required session
 * tag as the tenant-access role's trust policy would, and records what it was asked, so a test can count calls
 * and assert the tag. Sessions expire `durationSeconds` after the stand-in's clock.
 */
import { randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import { LoopbackHttpServer } from './loopback-http-server';
import { signedBy } from './sigv4-check';

/** One AssumeRole call the stand-in answered (or refused). */
export interface AssumeRoleCall {
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly durationSeconds: number;
  readonly tags: Record<string, string>;
  readonly callerAccessKeyId: string;
  readonly outcome: 'issued' | 'refused';
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export class StsStandIn extends LoopbackHttpServer {
  readonly calls: AssumeRoleCall[] = [];
  /**
   * The sessions issued, by access key id: the role and session tags they carry (what IAM would see as the
   * principal's tags on a request signed with them).
   */
  readonly sessions = new Map<string, { readonly roleArn: string; readonly tags: Readonly<Record<string, string>> }>();
  /** Calls and sessions kept (the oldest are dropped beyond it): a long-running sandbox keeps memory bounded. */
  maxRecorded = Number.POSITIVE_INFINITY;
  /** The stand-in's clock (tests move it to expire sessions). */
  now: () => number = Date.now;

  constructor(
    /** Secrets of the callers it accepts, by access key id. */
    private readonly callers: Record<string, string>,
    /** The session tag key every AssumeRole must carry (the trust policy's condition). */
    private readonly requiredTag: string,
    private readonly region = 'eu-west-1',
  ) {
    super();
  }

  protected handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.answer(req, Buffer.concat(chunks).toString('utf8')).then(
        ({ status, body }) => {
          res.writeHead(status, { 'content-type': 'text/xml' });
          res.end(body);
        },
        () => res.writeHead(500).end(),
      );
    });
  }

  private error(status: number, code: string, message: string) {
    const body = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`;
    return { status, body };
  }

  /** The caller whose key signed the request, if the signature is the reference signer's for its secret. */
  private signatureHolds(req: http.IncomingMessage, body: string): Promise<string | undefined> {
    return signedBy(req, body, { service: 'sts', region: this.region, secretOf: (k) => this.callers[k] });
  }

  private async answer(req: http.IncomingMessage, body: string) {
    const form = new URLSearchParams(body);
    if (form.get('Action') !== 'AssumeRole') return this.error(400, 'InvalidAction', `${form.get('Action')}`);
    const caller = await this.signatureHolds(req, body);
    if (caller === undefined) return this.error(403, 'SignatureDoesNotMatch', 'The request signature is not valid');
    const tags: Record<string, string> = {};
    for (let i = 1; form.has(`Tags.member.${i}.Key`); i++) {
      tags[form.get(`Tags.member.${i}.Key`)!] = form.get(`Tags.member.${i}.Value`) ?? '';
    }
    const call = {
      roleArn: form.get('RoleArn') ?? '',
      roleSessionName: form.get('RoleSessionName') ?? '',
      durationSeconds: Number(form.get('DurationSeconds') ?? 3600),
      tags,
      callerAccessKeyId: caller,
    };
    if (!tags[this.requiredTag]) {
      this.calls.push({ ...call, outcome: 'refused' });
      return this.error(403, 'AccessDenied', `Not authorized to perform sts:AssumeRole without ${this.requiredTag}`);
    }
    this.calls.push({ ...call, outcome: 'issued' });
    if (this.calls.length > this.maxRecorded) this.calls.shift();
    if (this.sessions.size >= this.maxRecorded) this.sessions.delete(this.sessions.keys().next().value!);
    const expiration = new Date(this.now() + call.durationSeconds * 1000).toISOString();
    const id = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    this.sessions.set(id, { roleArn: call.roleArn, tags });
    const body200 = `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${id}</AccessKeyId><SecretAccessKey>${randomBytes(20).toString('base64')}</SecretAccessKey><SessionToken>${xml(`tok/${call.roleSessionName}/${randomBytes(8).toString('hex')}`)}</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROA:${xml(call.roleSessionName)}</AssumedRoleId><Arn>${xml(call.roleArn)}</Arn></AssumedRoleUser><PackedPolicySize>1</PackedPolicySize></AssumeRoleResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></AssumeRoleResponse>`;
    return { status: 200, body: body200 };
  }
}
