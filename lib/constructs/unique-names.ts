/**
 * Physical names that are new with every deployment of a stack. A retained resource keeps its name after its
 * stack is deleted, and a state machine keeps its name while executions still run after a delete; a fixed
 * name then makes the next deploy fail with "already exists". Where a name must be chosen (a required prefix,
 * an ARN needed before the resource exists), it ends in a suffix taken from the stack's id, which
 * CloudFormation makes new for every stack it creates.
 */
import { Aws, Fn } from 'aws-cdk-lib';

/**
 * The first 8 hex digits of the stack's UUID (`arn:…:stack/<name>/<uuid>`): new with every stack creation,
 * stable across updates. A CloudFormation token; at most 8 characters.
 */
export function deploymentUniqueSuffix(): string {
  return Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
}
