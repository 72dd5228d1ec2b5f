import { storkctl, processIo, run } from '../commands.js';
import { pflagBooleans } from '../storkctl-kube.js';

process.exitCode = await run(
  storkctl(processIo),
  // storkctl's flags are pflag booleans: --includeVolumes=false as well as --no-includeVolumes.
  pflagBooleans(process.argv.slice(2), ['includeResources', 'includeVolumes', 'startApplications']),
  processIo,
);
// Do not let a lingering handle keep a finished command alive.
setTimeout(() => process.exit(), 2000).unref();
