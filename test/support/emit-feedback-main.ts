/**
 * test/dhcp/warm-deopt.test.ts's child, run with `--allow-natives-syntax`: whether the event log's `emit`, optimised
 * after the warm start's log ran it, stays optimised when a listener the warm start never called gets its first event.
 * The appliance's own log calls one listener first (the chain recorder, subscribed at start); then the warm start's
 * log runs `emit` (`throwawayEvents()`, or with `bare` a scratch log without listeners, as before); then `emit` is
 * optimised with what V8 learnt, and a new listener (a browser's event stream) is subscribed to the appliance's log.
 * Prints one JSON line: `emit`'s optimisation state before and after that event.
 */
import { EventLog } from '../../server/events/event-log.ts';
import { throwawayEvents } from '../../server/dhcp/warm-start.ts';
import { isOptimised, optimizeNext, prepare } from './v8-natives.ts';

const emit = EventLog.prototype.emit;
const event = (log: EventLog) => log.emit('service.state', { message: 'dhcp running', data: { service: 'dhcp', state: 'running' } });

let calls = 0;
const appliance = EventLog.scratch(100);
appliance.subscribe(() => void calls++);
prepare(emit);
for (let i = 0; i < 50; i++) event(appliance);
const warm = process.argv[2] === 'bare' ? EventLog.scratch(100) : throwawayEvents();
for (let i = 0; i < 50; i++) event(warm);
optimizeNext(emit);
event(warm);
const before = isOptimised(emit);
appliance.subscribe(() => void calls++);
event(appliance);
const after = isOptimised(emit);
process.stdout.write(`${JSON.stringify({ before, after, calls })}\n`);
