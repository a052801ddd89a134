// The randomized fault run (test/support/fault-run/run.ts) on postgres. One file per database, so
// each run has the whole of a file's time bound to itself.
import '../support/harness.js';
import { describeFaultRun } from '../support/fault-run/run.js';

describeFaultRun('postgres');
