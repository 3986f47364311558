/** Real TFTP clients against the plugin, transfers in JavaScript (`--tftp-js`, and machines without the addon). */
import { realClientSuite } from './helpers/real-client-suite.ts';

realClientSuite('js');
