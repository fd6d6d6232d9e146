import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { registerDlqCommands } from './commands/dlq-commands';
import { registerLagCommand } from './commands/lag-command';
import { registerOutboxCommand } from './commands/outbox-command';
import { registerTenantCommands } from './commands/tenant-commands';
import { registerTraceCommand } from './commands/trace-command';
import { EXIT, OperationFailedError, exitCodeOf } from './exit-codes';
import type { OpsContext } from './ops-context';

const VERSION = '0.1.0';

function secondsArgument(value: string): number {
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || seconds <= 0)
    throw new InvalidArgumentError('a number of seconds.');
  return seconds;
}

const HELP_AFTER = `
Environment (flags win):
  TENANTRY_API_URL            the gateway (default http://127.0.0.1:8080)
  TENANTRY_OPERATOR_EMAIL     operator login, at POST /v1/operators/token
  TENANTRY_OPERATOR_PASSWORD  its password (never a flag: it would stay in shell history)
  KAFKA_BROKERS               comma-separated (default 127.0.0.1:9092); KAFKA_SSL, KAFKA_SASL_* as the services
  ZIPKIN_URL                  default http://127.0.0.1:9411
  TENANTRY_METRICS_URLS       service=url pairs for outbox status (default the local stack's ports)

Exit codes: 0 ok, 1 the operation failed (the platform's problem is printed), 2 usage,
3 the platform (gateway, Kafka, Zipkin, metrics) did not answer.`;

/** The whole command tree; commander parses, validates and writes help through `context.io`. */
export function buildOpsProgram(context: OpsContext): Command {
  const program = new Command('tenantry')
    .description(
      "the platform operators' tool: tenants, dead letters, outboxes, consumer lag, traces",
    )
    .version(VERSION)
    .option('--api-url <url>', 'the gateway (env TENANTRY_API_URL)')
    .option('--email <email>', 'operator email (env TENANTRY_OPERATOR_EMAIL)')
    .option('--brokers <list>', 'Kafka brokers (env KAFKA_BROKERS)')
    .option('--zipkin-url <url>', 'Zipkin (env ZIPKIN_URL)')
    .option('--metrics <pairs>', 'service=url,... metrics endpoints (env TENANTRY_METRICS_URLS)')
    .option('--timeout <seconds>', 'bound on each platform call (default 30)', secondsArgument)
    .option('--json', 'results as JSON on stdout')
    .addHelpText('after', HELP_AFTER)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.io.out(text.replace(/\n$/, '')),
      writeErr: (text) => context.io.err(text.replace(/\n$/, '')),
    });
  registerTenantCommands(program, context);
  registerDlqCommands(program, context);
  registerOutboxCommand(program, context);
  registerLagCommand(program, context);
  registerTraceCommand(program, context);
  return program;
}

/** Parses and runs one command line; resolves to the exit code (never throws). */
export async function runOps(argv: readonly string[], context: OpsContext): Promise<number> {
  const program = buildOpsProgram(context);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; every other commander error is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    context.io.err(`tenantry: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof OperationFailedError && error.problem) {
      context.io.err(JSON.stringify(error.problem));
    }
    return exitCodeOf(error);
  }
}
