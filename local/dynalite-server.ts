/**
 * DynamoDB on loopback: dynalite in the test process, on a free port, with tables created from the key
 * schema in a synthesized template (not a hand-copied one).
 */
import type { AddressInfo, Server } from 'node:net';
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import type { TemplateJson } from './template';

export type { TemplateJson } from './template';

// dynalite ships no types.
// biome-ignore lint/suspicious/noExplicitAny: untyped module
const dynalite: (opts: Record<string, unknown>) => Server = require('dynalite') as any;

export class DynaliteServer {
  private server?: Server;
  private client?: DynamoDBClient;

  /** `path`: a folder to keep the data in (leveldb), so a restart finds it again; default: in memory. */
  async start(opts: { path?: string; port?: number } = {}): Promise<string> {
    const server = dynalite({
      createTableMs: 0,
      deleteTableMs: 0,
      updateTableMs: 0,
      ...(opts.path ? { path: opts.path } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    return this.endpoint;
  }

  get endpoint(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('dynalite not started');
    return `http://127.0.0.1:${addr.port}`;
  }

  /** A client for assertions and setup. */
  get dynamo(): DynamoDBClient {
    this.client ??= new DynamoDBClient({
      endpoint: this.endpoint,
      region: 'us-east-1',
      maxAttempts: 1,
      // dynalite checks no credentials; these keep the caller's environment (an AWS profile) out of it.
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    return this.client;
  }

  /** Creates a table with the key schema of `AWS::DynamoDB::Table` resource `logicalId` in `template`. */
  async createTableFromTemplate(template: TemplateJson, logicalId: string, tableName: string): Promise<void> {
    const res = template.Resources[logicalId];
    if (res?.Type !== 'AWS::DynamoDB::Table' && res?.Type !== 'AWS::DynamoDB::GlobalTable') {
      throw new Error(`${logicalId} is not a DynamoDB table in the template`);
    }
    const p = res.Properties as {
      KeySchema: KeySchemaElement[];
      AttributeDefinitions: AttributeDefinition[];
      GlobalSecondaryIndexes?: Array<{ IndexName: string; KeySchema: KeySchemaElement[]; Projection: object }>;
    };
    await this.dynamo.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: p.KeySchema,
        AttributeDefinitions: p.AttributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        ...(p.GlobalSecondaryIndexes
          ? {
              GlobalSecondaryIndexes: p.GlobalSecondaryIndexes.map((g) => ({
                IndexName: g.IndexName,
                KeySchema: g.KeySchema,
                Projection: g.Projection,
              })),
            }
          : {}),
      }),
    );
    // dynalite creates tables at once (createTableMs: 0); poll briefly rather than use the 20 s-step waiter.
    for (let i = 0; i < 100; i++) {
      const d = await this.dynamo.send(new DescribeTableCommand({ TableName: tableName }));
      if (d.Table?.TableStatus === 'ACTIVE') return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`Table ${tableName} did not become ACTIVE`);
  }

  async stop(): Promise<void> {
    this.client?.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
