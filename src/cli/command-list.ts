// Every command of the plugin, from its own declaration; cli.ts builds yargs from these lists and
// completion.ts its candidates, so a command or flag is declared once.
import type { CommandDeclaration } from '../checks/command-line.js';
import { vethPeerCommandLine } from '../checks/veth-peer/command-line.js';
import { traceSvcCommandLine } from '../checks/trace-svc/command-line.js';
import { arpCheckCommandLine } from '../checks/arp-check/command-line.js';
import { mtuProbeCommandLine } from '../checks/mtu-probe/command-line.js';
import { connCheckCommandLine } from '../checks/conn-check/command-line.js';
import { dnsCheckCommandLine } from '../checks/dns-check/command-line.js';
import { nodeCheckCommandLine } from '../checks/node-check/command-line.js';
import { nodeDiffCommandLine } from '../checks/node-diff/command-line.js';
import { smokeCommandLine } from '../checks/smoke/command-line.js';
import { cleanupCommandLine, completionCommandLine, explainCommandLine, rbacCommandLine, versionCommandLine } from './commands/tool-commands.js';

/** As completion offers them: the checks, then the other commands. */
export const COMMAND_LINES: readonly CommandDeclaration[] = [
  vethPeerCommandLine,
  traceSvcCommandLine,
  arpCheckCommandLine,
  mtuProbeCommandLine,
  connCheckCommandLine,
  dnsCheckCommandLine,
  nodeCheckCommandLine,
  nodeDiffCommandLine,
  smokeCommandLine,
  cleanupCommandLine,
  explainCommandLine,
  rbacCommandLine,
  completionCommandLine,
  versionCommandLine,
];

/** As --help lists them: cleanup after the checks of one pod, where the help has always had it. */
export const HELP_ORDER: readonly CommandDeclaration[] = [
  ...COMMAND_LINES.slice(0, COMMAND_LINES.indexOf(dnsCheckCommandLine) + 1),
  cleanupCommandLine,
  ...COMMAND_LINES.slice(COMMAND_LINES.indexOf(dnsCheckCommandLine) + 1).filter((c) => c !== cleanupCommandLine),
];
