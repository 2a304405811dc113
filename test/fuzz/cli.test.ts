/** Property-based attacks on the `jpki` command line (issue 10): see docs/reliability.md. */
import { CLI_TARGETS } from './support/cli-targets.js';
import { describeTarget } from './support/property.js';

for (const target of CLI_TARGETS) describeTarget(target);
