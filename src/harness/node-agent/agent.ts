/**
 * @module harness/node-agent/agent
 * The local node, our stand-in for a kubelet, wired from one controller a file as kwok's are:
 *
 * - ./node-controller.ts registers the Node and posts its status;
 * - ./lease-controller.ts renews its Lease;
 * - ./pod-controller.ts binds pending pods, syncs the pods bound here and reports their status
 *   (./pod-status.ts), from pods and Services watched as client-go's reflector does (./reflector.ts);
 * - ./pod-runner.ts runs their containers as local processes, ./prober.ts probes them;
 * - ./endpoints-controller.ts publishes EndpointSlices and proxies Services;
 * - ./scrape-targets.ts writes Prometheus' file_sd file;
 * - ./kubelet-server.ts serves health, kubelet-style metrics and `/pods`.
 */
import * as k8s from "@kubernetes/client-node";
import { EndpointsController } from "./endpoints-controller.ts";
import { KubeletServer } from "./kubelet-server.ts";
import { LeaseController } from "./lease-controller.ts";
import { NodeController } from "./node-controller.ts";
import { PodController } from "./pod-controller.ts";
import { PodRunner } from "./pod-runner.ts";
import type { AgentState, NodeAgentOptions } from "./runtime.ts";
import { ScrapeTargetsWriter } from "./scrape-targets.ts";

export type { NodeAgentOptions } from "./runtime.ts";

const HEARTBEAT_MS = 10_000;

export class NodeAgent {
  readonly #o: NodeAgentOptions;
  readonly #state: AgentState = { pods: new Map(), stopped: false };
  readonly #node: NodeController;
  readonly #lease: LeaseController;
  readonly #endpoints: EndpointsController;
  readonly #runner: PodRunner;
  readonly #podController: PodController;
  readonly #server: KubeletServer;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(o: NodeAgentOptions) {
    this.#o = o;
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(o.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    // The API server as pods reach it (KUBERNETES_SERVICE_HOST/PORT): loopback, never a ClusterIP.
    const server = new URL(kc.getCurrentCluster()?.server ?? "https://127.0.0.1:6443");
    this.#node = new NodeController(core, o, o.log);
    this.#lease = new LeaseController(kc.makeApiClient(k8s.CoordinationV1Api), o.nodeName);
    const endpoints = new EndpointsController(
      kc.makeApiClient(k8s.DiscoveryV1Api),
      this.#state,
      o.nodeName,
      o.log,
    );
    this.#endpoints = endpoints;
    this.#runner = new PodRunner(
      {
        core,
        nodeName: o.nodeName,
        apiHost: server.hostname,
        apiPort: server.port || "443",
        podsDir: o.podsDir,
        podNetwork: o.podNetwork,
        log: o.log,
        syncEndpoints: () => endpoints.sync(),
      },
      this.#state,
    );
    this.#podController = new PodController({
      core,
      nodeName: o.nodeName,
      log: o.log,
      state: this.#state,
      runner: this.#runner,
      endpoints,
      targets: new ScrapeTargetsWriter(o.podTargetsFile),
      watch: new k8s.Watch(kc),
    });
    this.#server = new KubeletServer(this.#state);
  }

  async start(): Promise<void> {
    await this.#node.register();
    await this.#lease.renew();
    await this.#server.listen(this.#o.port);
    this.#heartbeat = setInterval(() => {
      void this.#lease.renew().catch((e: unknown) => {
        this.#o.log("lease renewal failed", { err: String(e) });
      });
      void this.#node.updateStatus().catch((e: unknown) => {
        this.#o.log("node status update failed", { err: String(e) });
      });
    }, HEARTBEAT_MS);
    await this.#podController.start();
  }

  /** One pass of the pod controller: bind, start, report, stop. */
  reconcile(): Promise<void> {
    return this.#podController.reconcile();
  }

  /** Stops every pod's processes (the pods stay in the API) and the agent's own loops. */
  async stop(): Promise<void> {
    this.#state.stopped = true;
    this.#podController.stop();
    clearInterval(this.#heartbeat);
    await Promise.all([...this.#state.pods.values()].map((p) => this.#runner.stop(p, 5)));
    await this.#endpoints.close();
    await this.#server.close();
  }
}
