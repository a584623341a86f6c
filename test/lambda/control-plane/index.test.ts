/**
 * The control plane function as Lambda loads it (lambda/control-plane/index.ts, from source) with its environment:
 * the registry and the cell's ledger on dynalite, API Gateway and STS stand-ins reached through the SDK's
 * `AWS_ENDPOINT_URL_*` variables. One function serves the API and the silo registration custom resource.
 */
import type * as http from 'node:http';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ledgerDocumentClient } from '../../../lambda/shared/dynamo';
import { poolPartitionKey, TENANT_SESSION_TAG } from '../../../lambda/shared/pool-keys';
import { SILO_REGISTRATION } from '../../../lambda/shared/pool-runtime';
import { ApiGatewayStandIn } from '../../support/apigateway-standin';
import { LoopbackHttpServer } from '../../support/loopback-http-server';
import { StsStandIn } from '../../support/sts-standin';
import { createRegistryTable, eventOf, pooled, registryServer } from './registry-harness';

const CREDS = {
  AWS_ACCESS_KEY_ID: 'AKIDCONTROLPLANEFN',
  AWS_SECRET_ACCESS_KEY: 'fn-secret',
  AWS_SESSION_TOKEN: 'fn-token',
};

class Receiver extends LoopbackHttpServer {
  readonly puts: string[] = [];
  protected handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.resume().on('end', () => {
      this.puts.push(req.url ?? '');
      res.writeHead(200).end();
    });
  }
}

const server = registryServer();
const apigw = new ApiGatewayStandIn({ [CREDS.AWS_ACCESS_KEY_ID]: CREDS.AWS_SECRET_ACCESS_KEY }, ['abc123/prod']);
const sts = new StsStandIn({ [CREDS.AWS_ACCESS_KEY_ID]: CREDS.AWS_SECRET_ACCESS_KEY }, TENANT_SESSION_TAG);
const receiver = new Receiver();
const saved = { ...process.env };
type Handler = (event: unknown) => Promise<APIGatewayProxyResult | undefined>;
let handler: Handler;

beforeAll(async () => {
  await Promise.all([server.start(), apigw.start(), sts.start(), receiver.start()]);
  await createRegistryTable(server.client, 'registry-index');
  await server.client.send(
    new CreateTableCommand({
      TableName: 'ledger-index',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
    }),
  );
  Object.assign(process.env, CREDS, {
    AWS_REGION: 'eu-west-1',
    REGISTRY_TABLE_NAME: 'registry-index',
    POOL_CELLS: JSON.stringify([
      {
        id: 'pool-1',
        capacity: 10,
        restApiId: 'abc123',
        stage: 'prod',
        ledgerTable: 'ledger-index',
        tenantAccessRoleArn: 'arn:aws:iam::123456789012:role/TenantAccess',
      },
    ]),
    AWS_ENDPOINT_URL_DYNAMODB: server.endpoint,
    AWS_ENDPOINT_URL_API_GATEWAY: apigw.endpoint,
    AWS_ENDPOINT_URL_STS: sts.endpoint,
  });
  jest.isolateModules(() => {
    handler = require('../../../lambda/control-plane/index').handler;
  });
});
afterAll(async () => {
  process.env = saved;
  await Promise.all([server.stop(), apigw.stop(), sts.stop(), receiver.stop()]);
});

const call = async (method: string, path: string, body?: unknown) => {
  const res = (await handler(eventOf({ method, path, body }))) as APIGatewayProxyResult;
  return { status: res.statusCode, body: JSON.parse(res.body) };
};

describe('control plane function (index.ts)', () => {
  it('serves the API with its adapters wired from the environment: flush, tagged sessions, purge', async () => {
    const created = await call('POST', '/v1/tenants', pooled('wired-co', { offboarding: { data: 'delete' } }));
    expect(created.status).toBe(201);
    expect((await call('PATCH', '/v1/tenants/wired-co', { suspend: true })).body.authorizerCache).toBe('flushed');
    const doc = ledgerDocumentClient(server.client);
    for (const id of ['wired-co', 'other-co']) {
      for (let i = 0; i < 3; i++) {
        const Item = { pk: poolPartitionKey(id, `REQ#r-${i}`), sk: 'REQUEST' };
        await doc.send(new PutCommand({ TableName: 'ledger-index', Item }));
      }
    }
    const res = await call('DELETE', '/v1/tenants/wired-co');
    expect(res.status).toBe(200);
    expect(res.body.evidence).toMatchObject({
      authorizerCache: 'flushed',
      counts: { ledgerItems: { before: 3, after: 0 } },
    });
    expect(sts.calls.map((c) => [c.tags, c.callerAccessKeyId])).toEqual([
      [{ [TENANT_SESSION_TAG]: 'wired-co' }, CREDS.AWS_ACCESS_KEY_ID],
    ]);
    expect(apigw.flushed).toEqual(['abc123/prod', 'abc123/prod']);
  });

  it('takes custom resource events, and in production PUTs answers only to S3, never to loopback', async () => {
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const out = await handler({
        RequestType: 'Create',
        RequestId: 'r-1',
        ResponseURL: `${receiver.endpoint}/answer`,
        ResourceType: SILO_REGISTRATION.resourceType,
        LogicalResourceId: 'SiloInitech',
        StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Switchboard-ControlPlane/1',
        ResourceProperties: { TenantId: 'initech', Document: '{}' },
      });
      expect(out).toBeUndefined();
    } finally {
      write.mockRestore();
    }
    expect(receiver.puts).toEqual([]);
    expect(lines.join('')).toMatch(/silo registration not answered: ResponseURL is not an https URL of an S3 host/);
  });
});
