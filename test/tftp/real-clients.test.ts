/** Real TFTP clients against the plugin, transfers in the native pump (native/tftp-pump.c). */
import { realClientSuite } from './helpers/real-client-suite.ts';

realClientSuite('native');
