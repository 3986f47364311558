// Types of bin/v8-flags.mjs (plain JavaScript: it runs before the TypeScript loader) for the tests.
export declare const MAIN_THREAD_GC_FLAG: '--single-threaded-gc';
export declare const NO_PRETENURING_FLAG: '--no-allocation-site-pretenuring';
export declare function serveV8Flags(cpus: number): string[];
export declare function missingV8Flags(execArgv: readonly string[], cpus: number): string[];
export declare function restartServeWithV8Flags(root: string, cpus?: number): void;
