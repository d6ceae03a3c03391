/**
 * @module diagnostics/kubeconfig-path
 * Which kubeconfig a diagnostic command uses, as kubectl picks it: the flag, else the first
 * existing file of $KUBECONFIG, else ~/.kube/config, else none (in-cluster). The adapter itself
 * never looks at $KUBECONFIG, as upstream; the commands a person runs do.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";

export function kubeconfigPath(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  exists: (p: string) => boolean = existsSync,
  home: string = homedir(),
): string | undefined {
  if (flag !== undefined && flag !== "") return flag;
  for (const p of (env["KUBECONFIG"] ?? "").split(delimiter)) {
    if (p !== "" && exists(p)) return p;
  }
  const dflt = join(home, ".kube", "config");
  return exists(dflt) ? dflt : undefined;
}
