/** Moved to lambda/shared/tenant-file/tenant-config.ts (pure: the control plane Lambda validates tenant documents with it). */
export * from '../../lambda/shared/tenant-file/tenant-config';
