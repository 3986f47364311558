/** The one contract shared by server, agent and renderer. */
export * from './node.ts';
export * from './protocol.ts';
export * from './events.ts';
export * from './admin.ts';
export * from './bmc.ts';
export * from './bmc-enrol.ts';
export * from './reservations.ts';
export * from './manifest.ts';
export * from './node-api.ts';
export * from './system.ts';
export * from './images.ts';
export * from './session.ts';
export * from './readiness.ts';
export * from './prepared.ts';
export * from './disk-image.ts';
export * from './agent-tasks.ts';
export * from './node-edit.ts';
