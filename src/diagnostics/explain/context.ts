/**
 * @module diagnostics/explain/context
 * What every link of `explain` reads through: the options, the time it judges at, the cluster's
 * REST mapper (read once), the config's rules and their servers, and the pod lists the HPA
 * controller would read. Everything is read with the caller's credentials.
 */
import type { GroupResource } from "../../apimachinery/group-resource.ts";
import type { KubeClient } from "../../kube/client.ts";
import { RestMapper } from "../../kube/rest-mapper.ts";
import { RuleServers } from "./rule-servers.ts";
import type { ExplainOptions, PodJson } from "./types.ts";

export class ExplainContext {
  readonly o: ExplainOptions;
  readonly now: Date;
  readonly servers: RuleServers;
  #mapper: RestMapper | undefined;

  constructor(o: ExplainOptions) {
    this.o = o;
    this.now = o.now ?? new Date();
    this.servers = new RuleServers(o, () => this.mapperReady());
  }

  get kube(): KubeClient {
    return this.o.kube;
  }

  async mapperReady(): Promise<RestMapper> {
    if (!this.#mapper) {
      const m = new RestMapper(this.kube);
      await m.refresh();
      this.#mapper = m;
    }
    return this.#mapper;
  }

  /** `pods`, `pod`, `deployments.apps`, `Deployment` → the resource as the cluster serves it. */
  async normalize(resource: string): Promise<GroupResource> {
    const [name = "", ...group] = resource.split(".");
    const gr = { group: group.join("."), resource: name };
    try {
      const m = await this.mapperReady();
      const r =
        m.resourceForSync(gr) ??
        m.resources.find(
          (x) =>
            (x.singular === name || x.kind.toLowerCase() === name.toLowerCase()) &&
            (gr.group === "" || x.group === gr.group),
        );
      return r ? { group: r.group, resource: r.resource } : gr;
    } catch {
      return gr;
    }
  }

  /** The pods of a namespace that a selector picks, as the HPA controller lists them. */
  async pods(namespace: string, selector: string): Promise<PodJson[]> {
    const q = selector ? `?labelSelector=${encodeURIComponent(selector)}` : "";
    const list = await this.kube.json<{ items?: PodJson[] }>(
      "GET",
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods${q}`,
    );
    return list.items ?? [];
  }
}
