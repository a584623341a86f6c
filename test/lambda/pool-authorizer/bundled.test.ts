/**
 * The pool authorizer as Lambda would run it: the bundle CDK packaged for the construct, with the environment the
 * template gives it, reading the registry table (created from the template's key schema) on dynalite.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { hashApiKey } from '../../../lambda/pool-authorizer/core/api-key';
import { ledgerDocumentClient } from '../../../lambda/shared/dynamo';
import { apiKeyKey, tenantKey } from '../../../lambda/shared/registry-schema';
import { PoolAuthorizer } from '../../../lib/constructs/pool/pool-authorizer';
import { loadBundledModule } from '../../support/bundled-handler';
import { DynaliteServer, type TemplateJson } from '../../support/dynalite-server';
import { repoContext } from '../../support/synth';

type Handler = (e: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;
const KEY = `sb_${'k'.repeat(43)}`;
const METHOD_ARN = 'arn:aws:execute-api:us-east-1:111111111111:api123/live/POST/v1/inference';
const dynalite = new DynaliteServer();
let handler: Handler;
let outdir: string;

beforeAll(async () => {
  await dynalite.start();
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-pool-auth-'));
  const app = new App({
    outdir,
    builtinCloudFormationValidation: false,
    context: { ...repoContext(), 'aws:cdk:enable-asset-metadata': true },
  });
  const stack = new Stack(app, 'PoolCell');
  const registry = new dynamodb.Table(stack, 'Registry', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
  });
  const auth = new PoolAuthorizer(stack, 'Auth', {
    cellId: 'pool-1',
    registryTable: registry,
    key: new kms.Key(stack, 'Key'),
    sharedPolicies: [],
  });
  const api = new apigw.RestApi(stack, 'Api', { cloudWatchRole: false });
  api.root.addMethod('POST', new apigw.MockIntegration(), { authorizer: auth.authorizer });
  const template = app.synth({ force: true }).getStackByName('PoolCell').template as TemplateJson;
  const registryId = stack.getLogicalId(registry.node.defaultChild as dynamodb.CfnTable);
  const fnId = stack.getLogicalId(auth.function.fn.node.defaultChild as never);
  await dynalite.createTableFromTemplate(template, registryId, 'registry');
  const doc = ledgerDocumentClient(dynalite.dynamo);
  // The key and its tenant as the control plane writes them (lambda/shared/registry-schema.ts).
  const keyHash = hashApiKey(KEY);
  for (const Item of [
    { ...apiKeyKey(keyHash), keyHash, tenantId: 'acme', status: 'active' },
    { ...tenantKey('acme'), tenantId: 'acme', status: 'active', cell: 'pool-1', keyHash },
  ]) {
    await doc.send(new PutCommand({ TableName: 'registry', Item }));
  }
  handler = loadBundledModule<{ handler: Handler }>({
    template,
    outdir,
    functionLogicalId: fnId,
    refs: { [registryId]: 'registry' },
    env: { AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint },
  }).handler;
});
afterAll(async () => {
  await dynalite.stop();
  fs.rmSync(outdir, { recursive: true, force: true });
});

const event = (headers: Record<string, string>) =>
  ({
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    headers,
    multiValueHeaders: null,
  }) as unknown as APIGatewayRequestAuthorizerEvent;

describe('pool authorizer bundle', () => {
  it('maps a registered key to its tenant and refuses an unknown one, reading the registry table', async () => {
    const ok = await handler(event({ 'X-Api-Key': KEY }));
    expect(ok.context).toEqual({ tenantId: 'acme' });
    expect(ok.policyDocument.Statement[0]).toMatchObject({
      Effect: 'Allow',
      Resource: 'arn:aws:execute-api:us-east-1:111111111111:api123/live/*',
    });
    const refused = await handler(event({ 'x-api-key': `sb_${'u'.repeat(43)}` }));
    expect(refused.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
    await expect(handler(event({}))).rejects.toThrow('Unauthorized');
  });
});
