import { pxctl, processIo, run } from '../commands.js';

process.exitCode = await run(pxctl(processIo), process.argv.slice(2), processIo);
// Do not let a lingering handle keep a finished command alive.
setTimeout(() => process.exit(), 2000).unref();
