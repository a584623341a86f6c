/**
 * Resolves the intrinsic functions of a whole app's synthesized templates to text, consistently across stacks, so
 * that a policy in one stack and a resource in another name the same thing the same way:
 * - a resource reads as `<Stack/LogicalId>`, and its ARN as the ARN CloudFormation would give it, with that name
 *   (or the physical name the template sets) in place of the generated one: `Fn::GetAtt [Role, Arn]`, `Ref Topic`
 *   and a hand-built `arn:…:stateMachine:<name>` all read alike;
 * - `Fn::GetStackOutput` (weak cross-stack references) and `Fn::ImportValue` (exports) read as what the producer's
 *   output resolves to in the producer's stack;
 * - pseudo parameters: `<AWS::AccountId>`, `<AWS::Partition>` (a literal `arn:aws:` reads alike), the stack's
 *   region, `<Stack/AWS::StackId>`;
 * - `Fn::Join`, `Fn::Sub`, and `Fn::Select`/`Fn::Split` where their input is known; anything else reads as
 *   `<Fn::Name:json>` of its resolved arguments, which is stable and differs between stacks when its input does.
 * Linear in the templates' size (outputs are resolved once).
 */
import { asArray, type CfnResourceJson, type TemplateLike } from './template-json';

/** One stack's synthesized template, with what the template itself does not say. */
export interface StackTemplate {
  /** The stack name (what `Fn::GetStackOutput` names). */
  readonly stackName: string;
  readonly template: TemplateLike;
  /** The stack's region when known at synth. @default `<AWS::Region>` */
  readonly region?: string;
  /** The stack's account when known at synth (templates then hold it literally). @default `<AWS::AccountId>` */
  readonly account?: string;
}

const PARTITION = '<AWS::Partition>';
const ACCOUNT = '<AWS::AccountId>';

/** How a resource type's `Ref`, ARN and name read, given its name. */
interface TypeShape {
  /** Property holding the physical name, when the template may set one. */
  readonly nameProp?: string;
  readonly arn?: (name: string, region: string, account: string) => string;
  /** What `Ref` returns: the name (default), or the ARN. */
  readonly refIsArn?: boolean;
  /** Attributes that are the ARN besides `Arn`. */
  readonly arnAttrs?: readonly string[];
}

const arnOf = (service: string, resource: string, region = '', account = ACCOUNT) =>
  `arn:${PARTITION}:${service}:${region}:${account}:${resource}`;

const SHAPES: Readonly<Record<string, TypeShape>> = {
  'AWS::IAM::Role': { nameProp: 'RoleName', arn: (n, _r, a) => arnOf('iam', `role/${n}`, '', a) },
  'AWS::IAM::ManagedPolicy': {
    nameProp: 'ManagedPolicyName',
    arn: (n, _r, a) => arnOf('iam', `policy/${n}`, '', a),
    refIsArn: true,
    arnAttrs: ['PolicyArn'],
  },
  'AWS::DynamoDB::Table': { nameProp: 'TableName', arn: (n, r, a) => arnOf('dynamodb', `table/${n}`, r, a) },
  'AWS::KMS::Key': { arn: (n, r, a) => arnOf('kms', `key/${n}`, r, a) },
  'AWS::SNS::Topic': {
    nameProp: 'TopicName',
    arn: (n, r, a) => arnOf('sns', n, r, a),
    refIsArn: true,
    arnAttrs: ['TopicArn'],
  },
  'AWS::StepFunctions::StateMachine': {
    nameProp: 'StateMachineName',
    arn: (n, r, a) => arnOf('states', `stateMachine:${n}`, r, a),
    refIsArn: true,
  },
  'AWS::Lambda::Function': { nameProp: 'FunctionName', arn: (n, r, a) => arnOf('lambda', `function:${n}`, r, a) },
  'AWS::Logs::LogGroup': { nameProp: 'LogGroupName', arn: (n, r, a) => arnOf('logs', `log-group:${n}:*`, r, a) },
  'AWS::SecretsManager::Secret': {
    nameProp: 'Name',
    arn: (n, r, a) => arnOf('secretsmanager', `secret:${n}`, r, a),
    refIsArn: true,
  },
  'AWS::SQS::Queue': { nameProp: 'QueueName', arn: (n, r, a) => arnOf('sqs', n, r, a) },
  'AWS::ApiGateway::Stage': { nameProp: 'StageName' },
};

/** Resolves intrinsics across the templates of one app. */
export class TemplateResolver {
  private readonly stacks = new Map<string, StackTemplate>();
  private readonly exports = new Map<string, { stack: string; value: unknown }>();
  private readonly outputCache = new Map<string, unknown>();
  private readonly resolving = new Set<string>();

  constructor(stacks: readonly StackTemplate[]) {
    for (const s of stacks) {
      this.stacks.set(s.stackName, s);
      for (const o of Object.values(s.template.Outputs ?? {})) {
        if (typeof o.Export?.Name === 'string') this.exports.set(o.Export.Name, { stack: s.stackName, value: o.Value });
      }
    }
  }

  /** The stack `name`'s template, or throws. */
  stack(name: string): StackTemplate {
    const s = this.stacks.get(name);
    if (!s) throw new Error(`template-resolver: no stack ${name}`);
    return s;
  }

  /** The stable name of a resource: `<Stack/LogicalId>`. */
  static nameOf(stack: string, logicalId: string): string {
    return `<${stack}/${logicalId}>`;
  }

  /** The physical name a resource gets: its name property when the template sets one, else `<Stack/LogicalId>`. */
  physicalName(stack: string, logicalId: string): string {
    const r = this.resourceOf(stack, logicalId);
    const prop = r && SHAPES[r.Type]?.nameProp;
    const given = prop ? r.Properties?.[prop] : undefined;
    return given === undefined ? TemplateResolver.nameOf(stack, logicalId) : this.text(stack, given);
  }

  /** The ARN of a resource (`Fn::GetAtt [id, Arn]`). */
  arnOf(stack: string, logicalId: string): string {
    return this.text(stack, { 'Fn::GetAtt': [logicalId, 'Arn'] });
  }

  /** `value` (any JSON with intrinsics) in `stack`, every intrinsic resolved; strings stay strings. */
  resolve(stack: string, value: unknown): unknown {
    if (typeof value === 'string') return value.replace(/^arn:aws:/, `arn:${PARTITION}:`);
    if (Array.isArray(value)) return value.map((v) => this.resolve(stack, v)).filter((v) => v !== undefined);
    if (value === null || typeof value !== 'object') return value;
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::')))
      return this.intrinsic(stack, keys[0]!, o[keys[0]!]);
    return Object.fromEntries(keys.map((k) => [k, this.resolve(stack, o[k])]).filter(([, v]) => v !== undefined));
  }

  /** `value` resolved, as text (non-strings as JSON). */
  text(stack: string, value: unknown): string {
    const v = this.resolve(stack, value);
    return typeof v === 'string' ? v : JSON.stringify(v);
  }

  private resourceOf(stack: string, logicalId: string): CfnResourceJson | undefined {
    return this.stacks.get(stack)?.template.Resources[logicalId];
  }

  /** The account of `stack` as its ARNs read (`<AWS::AccountId>` when not known at synth). */
  account(stack: string): string {
    return this.stacks.get(stack)?.account ?? ACCOUNT;
  }

  /** The region of `stack` as its ARNs read. */
  region(stack: string): string {
    return this.stacks.get(stack)?.region ?? '<AWS::Region>';
  }

  private opaque(stack: string, fn: string, args: unknown): string {
    return `<${fn}:${JSON.stringify(this.resolve(stack, args))}>`;
  }

  private intrinsic(stack: string, fn: string, args: unknown): unknown {
    switch (fn) {
      case 'Ref':
        return this.ref(stack, String(args));
      case 'Fn::GetAtt': {
        const [id, ...attr] = Array.isArray(args) ? (args as string[]) : String(args).split('.');
        return this.getAtt(stack, String(id), attr.join('.'));
      }
      case 'Fn::Join': {
        const [sep, parts] = args as [string, unknown];
        const list = this.resolve(stack, parts);
        return Array.isArray(list)
          ? list.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(sep)
          : this.opaque(stack, fn, args);
      }
      case 'Fn::Sub': {
        const [template, vars] = Array.isArray(args) ? (args as [string, Record<string, unknown>]) : [String(args), {}];
        return template
          .replace(/\$\{([^}!][^}]*)\}/g, (_m, name: string) => {
            if (vars?.[name] !== undefined) return this.text(stack, vars[name]);
            return name.includes('.') && !name.startsWith('AWS::')
              ? this.text(stack, { 'Fn::GetAtt': name.split('.') })
              : this.text(stack, { Ref: name });
          })
          .replace(/^arn:aws:/, `arn:${PARTITION}:`);
      }
      case 'Fn::Select': {
        const [index, list] = args as [unknown, unknown];
        const items = this.resolve(stack, list);
        const i = Number(this.resolve(stack, index));
        return Array.isArray(items) && Number.isInteger(i) && i >= 0 && i < items.length
          ? items[i]
          : this.opaque(stack, fn, args);
      }
      case 'Fn::Split': {
        const [sep, source] = args as [string, unknown];
        const s = this.resolve(stack, source);
        // A placeholder's text is not what the value is: splitting it would invent pieces.
        return typeof s === 'string' && !s.includes('<') ? s.split(sep) : this.opaque(stack, fn, args);
      }
      case 'Fn::GetStackOutput': {
        const { StackName, OutputName } = args as { StackName?: unknown; OutputName?: unknown };
        return this.output(this.text(stack, StackName), this.text(stack, OutputName), () =>
          this.opaque(stack, fn, args),
        );
      }
      case 'Fn::ImportValue': {
        const name = this.text(stack, args);
        const found = this.exports.get(name);
        return found ? this.resolveOnce(`export:${name}`, found.stack, found.value) : this.opaque(stack, fn, args);
      }
      default:
        return this.opaque(stack, fn, args);
    }
  }

  private output(producer: string, outputName: string, unknown: () => string): unknown {
    const o = this.stacks.get(producer)?.template.Outputs?.[outputName];
    return o ? this.resolveOnce(`output:${producer}:${outputName}`, producer, o.Value) : unknown();
  }

  private resolveOnce(key: string, stack: string, value: unknown): unknown {
    if (this.outputCache.has(key)) return this.outputCache.get(key);
    if (this.resolving.has(key)) throw new Error(`template-resolver: circular reference through ${key}`);
    this.resolving.add(key);
    const v = this.resolve(stack, value);
    this.resolving.delete(key);
    this.outputCache.set(key, v);
    return v;
  }

  private ref(stack: string, name: string): unknown {
    switch (name) {
      case 'AWS::AccountId':
        return this.account(stack);
      case 'AWS::Partition':
        return PARTITION;
      case 'AWS::Region':
        return this.region(stack);
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stack;
      case 'AWS::NoValue':
        return undefined;
    }
    if (name.startsWith('AWS::')) return TemplateResolver.nameOf(stack, name);
    const r = this.resourceOf(stack, name);
    if (!r) return TemplateResolver.nameOf(stack, name); // a parameter
    const shape = SHAPES[r.Type];
    if (shape?.refIsArn && shape.arn)
      return shape.arn(this.physicalName(stack, name), this.region(stack), this.account(stack));
    return this.physicalName(stack, name);
  }

  private getAtt(stack: string, id: string, attr: string): unknown {
    const r = this.resourceOf(stack, id);
    const shape = r ? SHAPES[r.Type] : undefined;
    if (shape?.arn && (attr === 'Arn' || shape.arnAttrs?.includes(attr))) {
      return shape.arn(this.physicalName(stack, id), this.region(stack), this.account(stack));
    }
    return `<${stack}/${id}.${attr}>`;
  }
}

/** Tags (list form) of a resource, resolved. */
export function resolvedTags(resolver: TemplateResolver, stack: string, r: CfnResourceJson): Record<string, string> {
  const tags = asArray(r.Properties?.Tags as Array<{ Key: unknown; Value: unknown }> | undefined);
  return Object.fromEntries(
    tags
      .filter((t) => t && typeof t === 'object' && 'Key' in t)
      .map((t) => [resolver.text(stack, t.Key), resolver.text(stack, t.Value)]),
  );
}
