/** Property-based attacks on every HTTP route the app registers (issue 10): see docs/reliability.md. */
import { HTTP_TARGETS } from './support/http-targets.js';
import { describeTarget } from './support/property.js';

for (const target of HTTP_TARGETS) describeTarget(target);
