/**
 * The agent's public surface: what the microkernel entry point, the virtual
 * rack (server/lab) and the check-in bench (bench/) use.
 */
export { AgentLoop, type AgentEvent, type AgentHooks, type AgentLoopOptions, type AgentStatus, type LoopExit } from './loop/agent-loop.ts';
export { ApplianceClient, ApplianceError, request, type ClientOptions } from './loop/client.ts';
export { buildRegisterRequest, hwId, inventoryMacs } from './loop/register-request.ts';
export { backoffDelay, backoffCeiling } from './loop/backoff.ts';
export { createStderrLogger, silentLogger, type AgentLogger } from './loop/logger.ts';
export { buildInventory } from './facts/inventory.ts';
export { flatFacts, wireFacts, compileExclude, excludeFacts } from './facts/flat-facts.ts';
export { readToolDir } from './collect/replay.ts';
export { collectLive } from './collect/live.ts';
export { locate, crashcartArgs, parseCmdline, leaseServer } from './locate.ts';
