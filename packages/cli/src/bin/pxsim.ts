import { processIo, run } from '../commands.js';
import { pxsim } from '../pxsim.js';

process.exitCode = await run(pxsim(processIo), process.argv.slice(2), processIo);
// Do not let a lingering handle keep a finished command alive.
setTimeout(() => process.exit(), 2000).unref();
