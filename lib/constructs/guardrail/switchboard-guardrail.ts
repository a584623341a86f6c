import { CfnDeletionPolicy, Stack } from 'aws-cdk-lib';
import * as bedrock from 'aws-cdk-lib/aws-bedrock';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { GuardrailPolicy } from '../../../lambda/shared/catalog';
import { MODEL_CALL_ACTIONS } from '../../compliance/switchboard-checks';
import {
  billedPolicies,
  GUARDRAIL_BLOCKED_MESSAGES,
  type GuardrailPolicyConfig,
  HARMFUL_CONTENT_FILTERS,
  policyDigest,
} from '../../config/guardrail-policy';

/**
 * The condition key that names the guardrail (ARN and version, `arn:…:guardrail/<id>:<version>`) a model call
 * applies: https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-permissions-id.html
 */
const GUARDRAIL_CONDITION_KEY = 'bedrock:GuardrailIdentifier';

/** A guardrail model calls can be bound to. */
export interface IGuardrail {
  /** The guardrail's ARN (what calls pass as `guardrailIdentifier`). */
  readonly guardrailArn: string;
  /** The published version calls pin. */
  readonly guardrailVersion: string;
  /** Its policies, resolved. */
  readonly policy: GuardrailPolicyConfig;
  /** The billed policies (what a call's worst-case cost reserves). */
  readonly billedPolicies: readonly GuardrailPolicy[];
  /**
   * Lets `grantee` call `modelArns` only with this guardrail: an Allow conditioned on `bedrock:GuardrailIdentifier`
   * and a Deny of any model call with another guardrail or none, plus `bedrock:ApplyGuardrail` on the guardrail and
   * decryption of its key through Bedrock.
   */
  grantInvokeModelsWith(grantee: iam.IGrantable, modelArns: readonly string[]): void;
}

/** Props of {@link SwitchboardGuardrail}. */
export interface SwitchboardGuardrailProps {
  /** Guardrail name (1–50 characters of letters, digits, `-` and `_`; unique in the account and region). */
  readonly name: string;
  /** Whose guardrail it is, for its description ("plan basic", "tenant acme"). */
  readonly owner: string;
  readonly policy: GuardrailPolicyConfig;
  /** The key that encrypts the guardrail (its policy must let the account use it through Bedrock). */
  readonly key: kms.IKey;
}

const NAME = /^[0-9a-zA-Z_-]{1,50}$/;

/**
 * An Amazon Bedrock guardrail with a published version: the prompt-attack filter on prompts (answers NONE, as AWS
 * requires), the harmful-content filters on prompts and answers, PII blocked (credentials) or masked (contact data
 * in answers), and denied topics, with Switchboard's blocked messages, encrypted with a customer managed key.
 *
 * Calls pin the version. A changed configuration gets a new version (the version's description carries a digest
 * of the configuration, and CloudFormation replaces a version whose description changes); the old version is kept
 * (UpdateReplacePolicy Retain), so functions still pinned to it keep working until their stacks are deployed.
 */
export class SwitchboardGuardrail extends Construct implements IGuardrail {
  readonly guardrailArn: string;
  readonly guardrailVersion: string;
  readonly policy: GuardrailPolicyConfig;
  readonly billedPolicies: readonly GuardrailPolicy[];
  readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: SwitchboardGuardrailProps) {
    super(scope, id);
    if (!NAME.test(props.name)) {
      throw new Error(`${this.node.path}: name: "${props.name}" must be 1–50 characters of a-z, A-Z, 0-9, - and _`);
    }
    const p = props.policy;
    const guardrail = new bedrock.CfnGuardrail(this, 'Resource', {
      name: props.name,
      description: `Switchboard guardrail of ${props.owner}`,
      blockedInputMessaging: GUARDRAIL_BLOCKED_MESSAGES.input,
      blockedOutputsMessaging: GUARDRAIL_BLOCKED_MESSAGES.output,
      kmsKeyArn: props.key.keyArn,
      contentPolicyConfig: {
        filtersConfig: [
          ...HARMFUL_CONTENT_FILTERS.map((type) => ({
            type,
            inputStrength: p.harmfulContentStrength,
            outputStrength: p.harmfulContentStrength,
          })),
          // Prompt attacks are a property of prompts: AWS requires NONE on answers.
          { type: 'PROMPT_ATTACK', inputStrength: p.promptAttackStrength, outputStrength: 'NONE' },
        ],
      },
      sensitiveInformationPolicyConfig: {
        piiEntitiesConfig: [
          ...p.pii.block.map((type) => ({
            type,
            action: 'BLOCK',
            inputAction: 'BLOCK',
            inputEnabled: true,
            outputAction: 'BLOCK',
            outputEnabled: true,
          })),
          // Masked in answers only: a caller may send its own contact data; the model must not hand any out.
          ...p.pii.anonymize.map((type) => ({
            type,
            action: 'ANONYMIZE',
            inputAction: 'NONE',
            inputEnabled: false,
            outputAction: 'ANONYMIZE',
            outputEnabled: true,
          })),
        ],
      },
      ...(p.deniedTopics.length
        ? {
            topicPolicyConfig: {
              topicsConfig: p.deniedTopics.map((t) => ({
                name: t.name,
                definition: t.definition,
                ...(t.examples.length ? { examples: [...t.examples] } : {}),
                type: 'DENY',
              })),
            },
          }
        : {}),
    });
    const version = new bedrock.CfnGuardrailVersion(this, 'Version', {
      guardrailIdentifier: guardrail.attrGuardrailId,
      description: `Switchboard guardrail of ${props.owner}, configuration ${policyDigest(p)}`,
    });
    // Replaced: kept for the functions still pinned to it. Deleted with its stack: the guardrail goes too.
    version.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.RETAIN;
    version.cfnOptions.deletionPolicy = CfnDeletionPolicy.DELETE;
    this.guardrailArn = guardrail.attrGuardrailArn;
    this.guardrailVersion = version.attrVersion;
    this.policy = p;
    this.billedPolicies = billedPolicies(p);
    this.key = props.key;
  }

  /** The value of `bedrock:GuardrailIdentifier` for calls with this guardrail's version. */
  get identifierWithVersion(): string {
    return `${this.guardrailArn}:${this.guardrailVersion}`;
  }

  grantInvokeModelsWith(grantee: iam.IGrantable, modelArns: readonly string[]): void {
    grantInvokeModelsWithAnyOf(grantee, { guardrails: [this], key: this.key, modelArns });
  }
}

/** Options of {@link grantInvokeModelsWithAnyOf}. */
export interface GuardrailBindingOptions {
  /** The guardrails a call may apply (one of them, at its published version). */
  readonly guardrails: readonly IGuardrail[];
  /** The key encrypting those guardrails (decrypted through Bedrock when a call applies one). */
  readonly key: kms.IKey;
  /** The models and inference profiles that may be called. */
  readonly modelArns: readonly string[];
}

/**
 * Lets `grantee` call `modelArns` only with one of `guardrails` (each at its published version): one Allow whose
 * `bedrock:GuardrailIdentifier` condition lists them, one Deny of every model call naming none of them (or no
 * guardrail), `bedrock:ApplyGuardrail` on them and decryption of their key through Bedrock. A silo tenant's function
 * has one guardrail; a pool cell's function serves every plan and so has the plans' guardrails (the handler picks
 * the tenant's plan's guardrail per call).
 */
export function grantInvokeModelsWithAnyOf(grantee: iam.IGrantable, opts: GuardrailBindingOptions): void {
  if (opts.guardrails.length === 0) throw new Error('grantInvokeModelsWithAnyOf: at least one guardrail is needed');
  const principal = grantee.grantPrincipal;
  const identifiers = opts.guardrails.map((g) => `${g.guardrailArn}:${g.guardrailVersion}`);
  const identifier = identifiers.length === 1 ? identifiers[0]! : identifiers;
  // Guardrails are regional: the key's region is the calls' region.
  const region = Stack.of(opts.key).region;
  const modelArns = opts.modelArns;
  const guardrailArns = opts.guardrails.map((g) => g.guardrailArn);
  const statements = [
    new iam.PolicyStatement({
      sid: 'InvokeAllowedModelsWithGuardrail',
      actions: ['bedrock:InvokeModel'],
      resources: [...modelArns],
      conditions: { StringEquals: { [GUARDRAIL_CONDITION_KEY]: identifier } },
    }),
    // Whatever else a policy of the role may allow: no model call without this guardrail and version.
    new iam.PolicyStatement({
      sid: 'DenyModelCallsWithoutGuardrail',
      effect: iam.Effect.DENY,
      // Converse is authorized as InvokeModel, ConverseStream as InvokeModelWithResponseStream.
      actions: [...MODEL_CALL_ACTIONS],
      resources: ['*'],
      conditions: { StringNotEquals: { [GUARDRAIL_CONDITION_KEY]: identifier } },
    }),
    new iam.PolicyStatement({
      sid: 'ApplyTenantGuardrail',
      actions: ['bedrock:ApplyGuardrail'],
      resources: guardrailArns,
    }),
    // https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-permissions-kms.html
    new iam.PolicyStatement({
      sid: 'DecryptGuardrailThroughBedrock',
      actions: ['kms:Decrypt'],
      resources: [opts.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `bedrock.${region}.amazonaws.com` } },
    }),
  ];
  for (const st of statements) principal.addToPrincipalPolicy(st);
}
