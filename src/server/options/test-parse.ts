/**
 * @module server/options/test-parse
 * For the option groups' unit tests: parse a command line with some of `serve`'s options exactly
 * as commander does for `serve`, and hand back the values.
 */
import { Command, type Option } from "@commander-js/extra-typings";

// The caller names the group's FlagValues type, which these options parse to (serve.ts checks it).
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
export function parseFlags<T>(
  flags: Record<string, () => Option<string, unknown, unknown, unknown, boolean, unknown>>,
  argv: readonly string[],
): T {
  const cmd = new Command("serve").exitOverride().configureOutput({ writeErr: () => undefined });
  for (const make of Object.values(flags)) cmd.addOption(make());
  cmd.parse([...argv], { from: "user" });
  return cmd.opts() as T;
}
