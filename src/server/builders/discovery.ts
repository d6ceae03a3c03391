/**
 * @module server/builders/discovery
 * The adapter's client for the cluster and its REST mapper: API discovery read once before the
 * config is compiled (an unreachable cluster stops the adapter), then refreshed on an interval.
 */
import { KcmError } from "../../errors.ts";
import { KubeClient } from "../../kube/client.ts";
import { RestMapper } from "../../kube/rest-mapper.ts";
import type { ResourceMapper } from "../../naming/resource-label.ts";
import { namingMapper } from "../../providers/prometheus/rules.ts";
import type { KubeAccessConfig } from "../options/kube.ts";
import type { Component } from "./component.ts";

export interface Discovery extends Component {
  readonly kube: KubeClient;
  readonly mapper: RestMapper;
  /** The mapper as the naming rules use it. */
  readonly naming: ResourceMapper;
}

export async function buildDiscovery(c: KubeAccessConfig): Promise<Discovery> {
  const kube = new KubeClient({ kubeconfig: c.kubeconfig });
  const mapper = new RestMapper(kube);
  await mapper.refresh().catch((e: unknown) => {
    throw new KcmError(
      "KCM_ERR_KUBE_UNREACHABLE",
      `cannot read API discovery from ${kube.server || "in-cluster"}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  });
  let timer: NodeJS.Timeout | undefined;
  return {
    kube,
    mapper,
    naming: namingMapper(mapper),
    start() {
      // A failed refresh keeps the last mapping; a miss refreshes on its own.
      timer = setInterval(
        () => void mapper.refresh().catch(() => undefined),
        c.discoveryIntervalMs,
      );
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
