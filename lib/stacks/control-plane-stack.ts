import { CfnOutput, CustomResource, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { SILO_REGISTRATION } from '../../lambda/shared/pool-runtime';
import { ControlPlane, type PoolCellTarget, pascal } from '../constructs/control-plane/control-plane';
import { TenantRegistry } from '../constructs/control-plane/tenant-registry';
import type { PlatformStack } from './platform-stack';

/** A silo tenant as the control plane registers it: its id and its file's document. */
export interface SiloTenantRegistration {
  readonly tenantId: string;
  /** The tenant file's document (the tenant file schema, as written). */
  readonly document: Record<string, unknown>;
}

/** Props of {@link ControlPlaneStack}. */
export interface ControlPlaneStackProps extends StackProps {
  readonly platform: PlatformStack;
  /** The pool cells, in placement order (their stacks are deployed first). */
  readonly cells: readonly PoolCellTarget[];
  /** Every silo tenant file: each is registered in the registry by a custom resource. */
  readonly siloTenants: readonly SiloTenantRegistration[];
}

/** Name of the control plane stack. */
export const CONTROL_PLANE_STACK_NAME = 'Switchboard-ControlPlane';

/**
 * The control plane, once per account and region: the tenant registry, the control plane function and its
 * IAM-authorized API, and one registration per silo tenant file (a custom resource served by the control plane
 * function itself: no provider function). It references the pool cells (their APIs, ledgers and tenant-access
 * roles); they do not reference it.
 */
export class ControlPlaneStack extends Stack {
  readonly registry: TenantRegistry;
  readonly controlPlane: ControlPlane;

  constructor(scope: Construct, id: string, props: ControlPlaneStackProps) {
    super(scope, id, props);
    const { platform } = props;
    this.registry = new TenantRegistry(this, 'Registry', {
      backupRole: platform.backup.role,
      keyAdminRoles: platform.config.keyAdminRoles,
    });
    this.controlPlane = new ControlPlane(this, 'ControlPlane', {
      registry: this.registry,
      cells: props.cells,
      sharedPolicies: [platform.tracingPolicy],
      webAclArn: platform.webAclArn,
      reviewerDirectory: platform.reviewers,
    });
    for (const t of props.siloTenants) {
      const registration = new CustomResource(this, `Silo${pascal(t.tenantId)}`, {
        serviceToken: this.controlPlane.fn.fn.functionArn,
        resourceType: SILO_REGISTRATION.resourceType,
        properties: {
          [SILO_REGISTRATION.props.tenantId]: t.tenantId,
          [SILO_REGISTRATION.props.document]: JSON.stringify(t.document),
        },
      });
      // The function must be able to write the registry before CloudFormation asks it to.
      registration.node.addDependency(this.controlPlane.fn);
    }

    new CfnOutput(this, 'ApiUrl', {
      value: this.controlPlane.api.url,
      description:
        'Base URL of the control plane API (IAM, SigV4; npm run control-plane): POST/GET /v1/tenants, GET/PATCH/DELETE /v1/tenants/{id}, POST /v1/tenants/{id}/move',
    });
    new CfnOutput(this, 'RegistryTable', { value: this.registry.table.tableName });
  }
}
