/**
 * The wall clock as the appliance reads it when nothing else is given (tests pass their own). One function for every
 * reader, the event logs above all: the real log (server/app.ts) and the DHCP warm start's scratch log call the same
 * one, so `emit`'s call of its clock, optimised during the warm start, meets the same target in the real log (a
 * closure per default was another target each: "wrong call target" under `--trace-deopt`; docs/perf/changes.md,
 * "Two deoptimisations at the first real lease").
 */
export const systemNow = (): Date => new Date();
