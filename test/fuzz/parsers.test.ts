/** Property-based attacks on every parser of untrusted bytes (issue 10): see docs/reliability.md. */
import { PARSER_TARGETS } from './support/parser-targets.js';
import { describeTarget } from './support/property.js';

for (const target of PARSER_TARGETS) describeTarget(target);
