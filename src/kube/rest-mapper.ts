/**
 * @module kube/rest-mapper
 * Maps resource names (plural, singular, with or without group) to their group, version, kind and
 * scope, from the API server's discovery documents. Unlike upstream's mapper (built once at start,
 * so CRDs added later need a restart), this one refreshes on an interval and on a miss.
 * Mirrors the lookups of apimachinery's meta.RESTMapper (ResourceFor, KindFor, ResourceSingularizer).
 */
import { groupResourceString, type GroupResource } from "../apimachinery/group-resource.ts";
import type { KubeClient } from "./client.ts";

export interface ResourceInfo {
  readonly group: string;
  readonly version: string;
  /** Plural, lower case: the name in API paths. */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
}

interface APIResourceList {
  groupVersion: string;
  resources: {
    name: string;
    singularName?: string;
    namespaced: boolean;
    kind: string;
    verbs?: string[];
  }[];
}

interface APIGroupList {
  groups: { name: string; preferredVersion?: { groupVersion: string; version: string } }[];
}

/** Group discovery documents asked for at once. */
const GROUP_REQUESTS_IN_FLIGHT = 4;

export class ResourceNotFoundError extends Error {
  override readonly name = "ResourceNotFoundError";
}

export class RestMapper {
  readonly #client: KubeClient | undefined;
  #resources: ResourceInfo[] = [];
  #lastRefresh = 0;
  #refreshing: Promise<void> | undefined;
  readonly #minMissRefreshMs: number;

  constructor(client: KubeClient | undefined, opts: { minMissRefreshMs?: number } = {}) {
    this.#client = client;
    this.#minMissRefreshMs = opts.minMissRefreshMs ?? 5000;
  }

  /** A mapper over a fixed list, for tests and for clusters without discovery. */
  static fromResources(resources: readonly ResourceInfo[]): RestMapper {
    const m = new RestMapper(undefined);
    m.#resources = [...resources];
    return m;
  }

  get resources(): readonly ResourceInfo[] {
    return this.#resources;
  }

  /** Reads discovery: core v1, then each group's preferred version, in the server's order. */
  refresh(): Promise<void> {
    const client = this.#client;
    if (!client) return Promise.resolve();
    this.#refreshing ??= (async () => {
      try {
        const coreList = client.json<APIResourceList>("GET", "/api/v1");
        coreList.catch(() => undefined); // awaited below, after the group list
        const groups = await client.json<APIGroupList>("GET", "/apis");
        const versions = groups.groups.flatMap((g) =>
          g.preferredVersion ? [g.preferredVersion.groupVersion] : [],
        );
        // A few requests at a time over kept-alive connections: one connection per group would
        // cost a TLS handshake each (about twice the CPU of the whole refresh) at every start.
        const lists = new Array<APIResourceList | undefined>(versions.length);
        let next = 0;
        const worker = async () => {
          for (let i = next++; i < versions.length; i = next++) {
            lists[i] = await client
              .json<APIResourceList>("GET", `/apis/${versions[i] ?? ""}`)
              // An unavailable aggregated API (maybe our own, starting) must not break mapping.
              .catch(() => undefined);
          }
        };
        await Promise.all(Array.from({ length: GROUP_REQUESTS_IN_FLIGHT }, worker));
        const core = await coreList;
        const out: ResourceInfo[] = [];
        for (const list of [core, ...lists]) {
          if (!list) continue;
          const [group, version] = list.groupVersion.includes("/")
            ? (list.groupVersion.split("/") as [string, string])
            : ["", list.groupVersion];
          for (const r of list.resources) {
            if (r.name.includes("/")) continue; // subresources
            out.push({
              group,
              version,
              resource: r.name,
              singular: r.singularName || r.kind.toLowerCase(),
              kind: r.kind,
              namespaced: r.namespaced,
              verbs: r.verbs ?? [],
            });
          }
        }
        this.#resources = out;
        this.#lastRefresh = Date.now();
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  #find(gr: GroupResource): ResourceInfo | undefined {
    const res = gr.resource.toLowerCase();
    return this.#resources.find(
      (r) =>
        (gr.group === "" || r.group === gr.group) && (r.resource === res || r.singular === res),
    );
  }

  /** Like find, but a miss triggers a (rate-limited) refresh first: new CRDs appear without a restart. */
  async resourceFor(gr: GroupResource): Promise<ResourceInfo> {
    let found = this.#find(gr);
    if (!found && this.#client && Date.now() - this.#lastRefresh > this.#minMissRefreshMs) {
      await this.refresh();
      found = this.#find(gr);
    }
    if (!found)
      throw new ResourceNotFoundError(
        `the server doesn't have a resource type "${groupResourceString(gr)}"`,
      );
    return found;
  }

  /** Synchronous lookup on the current discovery snapshot (used on the discovery hot path). */
  resourceForSync(gr: GroupResource): ResourceInfo | undefined {
    return this.#find(gr);
  }
}
