#!/usr/bin/env node
// The `jpki` command. Sources are TypeScript run through tsx's loader, so there is no build step:
// `npm ci` is the whole installation and `npx jpki` runs the code in src/ as it stands.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
