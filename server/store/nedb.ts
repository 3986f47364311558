/**
 * nedb is CommonJS (`module.exports = Datastore`) while its typings say
 * `export default`; under NodeNext that mismatch types the default import as
 * the module namespace. This file is the one place that bridges the two.
 */
import { createRequire } from 'node:module';
import type NedbTypes from '@seald-io/nedb';

type NedbModule = typeof NedbTypes extends { default: infer D } ? D : typeof NedbTypes;
/** The nedb Datastore class. */
export const Datastore = createRequire(import.meta.url)('@seald-io/nedb') as NedbModule;
/** A nedb Datastore instance. */
export type Datastore<T> = InstanceType<NedbModule> & { __doc?: T };
