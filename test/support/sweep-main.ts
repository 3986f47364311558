/**
 * test/system/full-gc.test.ts's child, run with `--single-threaded-gc` as serve runs on one CPU (V8 then sweeps on
 * the main thread, lazily, so what a collection leaves unswept stays so until something finishes it). It makes
 * old-generation garbage among live objects twice: once collected by V8's bare `gc`, once by collectGarbageNow, and
 * after each reads the old space's free memory before and after a walk of the heap (finishSweeping). Prints one
 * JSON line.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { collectGarbageNow, finishSweeping } from '../../server/system/full-gc.ts';

const oldSpaceFree = () => v8.getHeapSpaceStatistics().find((sp) => sp.space_name === 'old_space')!.space_available_size;
const live: object[] = [];
/** Old-generation garbage among live objects: small objects promoted by a collection, nine in ten then dropped. */
function oldGarbage(): void {
  let made: { i: number; s: string }[] | null = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `x${i}` }));
  collectGarbageNow();
  for (let i = 0; i < made.length; i += 10) live.push(made[i]!);
  made = null;
}

collectGarbageNow(); // sets --expose-gc, so a new context has gc
const bareGc = vm.runInNewContext('gc') as () => void;
oldGarbage();
bareGc();
const bare = { before: oldSpaceFree(), after: 0 };
finishSweeping();
bare.after = oldSpaceFree();
oldGarbage();
collectGarbageNow();
const ours = { before: oldSpaceFree(), after: 0 };
finishSweeping();
ours.after = oldSpaceFree();
process.stdout.write(`${JSON.stringify({ bare, ours, live: live.length })}\n`);
