/**
 * The agent's version: the package version plus a digest of the sources the bundle was built from
 * (build/agent-bundle.mjs defines it), so two builds of one release tell apart. Running from the
 * sources (tsx, tests) it is `dev`.
 */
declare const __CRASHCART_AGENT_VERSION__: string | undefined;

/** Version the agent reports at registration. */
export const AGENT_VERSION: string = typeof __CRASHCART_AGENT_VERSION__ === 'string' ? __CRASHCART_AGENT_VERSION__ : 'dev';
