import type { Command } from 'commander';
import { registerInit } from './init.js';
import { registerCa } from './ca.js';
import { registerAudit } from './audit.js';
import { registerServe } from './serve.js';
import { registerCard } from './card.js';
import { registerOcsp } from './ocsp.js';
import { registerRegister } from './register.js';
import { registerOperator } from './operator.js';
import { registerCounter } from './counter.js';
import { registerClient } from './client.js';

/** Every sub-command of `jpki`, registered in the order `jpki --help` lists them. */
export function registerCommands(program: Command): void {
  registerInit(program);
  registerCa(program);
  registerAudit(program);
  registerOcsp(program);
  registerServe(program);
  registerCard(program);
  registerRegister(program);
  registerOperator(program);
  registerCounter(program);
  registerClient(program);
}
