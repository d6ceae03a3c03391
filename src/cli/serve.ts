/**
 * @module cli/serve
 * `k8s-custom-metrics serve`: the adapter. Reads prometheus-adapter's config file and flags with
 * the same names and meanings (docs/flags.md). As metrics-server's command: options (in groups,
 * server/options/) → validated config → the server's builders (server/builders/), in order.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Command } from "@commander-js/extra-typings";
import { createLogger } from "../observability/logger.ts";
import { createAdapterMetrics } from "../observability/metrics.ts";
import { formatIssue } from "../config/errors.ts";
import { apisFlags, validateApis } from "../server/options/apis.ts";
import { authenticationFlags, validateAuthentication } from "../server/options/authentication.ts";
import { authorizationFlags, validateAuthorization } from "../server/options/authorization.ts";
import {
  compatibilityFlags,
  UPSTREAM_ENTRYPOINT,
  validateCompatibility,
  withCompatibilityFlags,
} from "../server/options/compatibility.ts";
import { configFileFlags, validateConfigFile } from "../server/options/config-file.ts";
import { kubeFlags, validateKube } from "../server/options/kube.ts";
import { prometheusFlags, validatePrometheus } from "../server/options/prometheus.ts";
import {
  resourceMetricsFlags,
  validateResourceMetrics,
} from "../server/options/resource-metrics.ts";
import { servingFlags, validateServing } from "../server/options/serving.ts";
import { compileAdapterConfig, readAdapterConfig } from "../server/builders/adapter-config.ts";
import { buildApiHandler } from "../server/builders/api-handler.ts";
import { planApis } from "../server/builders/api-plan.ts";
import { startConfigWatch } from "../server/builders/config-watch.ts";
import { buildDiscovery } from "../server/builders/discovery.ts";
import { startEarlyDiscovery } from "../server/builders/early-discovery.ts";
import { stopOnSignals } from "../server/builders/lifecycle.ts";
import { buildPodCache } from "../server/builders/pod-cache.ts";
import { buildPrometheusClient } from "../server/builders/prometheus-client.ts";
import { buildPrometheusProviders } from "../server/builders/prometheus-providers.ts";
import { buildResourceMetrics } from "../server/builders/resource-metrics.ts";
import { startServing } from "../server/builders/serving.ts";

export const VERSION = "v0.1.0";

export function serveCommand(): Command {
  const cfg = configFileFlags;
  const prom = prometheusFlags;
  const serving = servingFlags;
  const authn = authenticationFlags;
  const authz = authorizationFlags;
  const res = resourceMetricsFlags;
  return (
    withCompatibilityFlags(new Command("serve"))
      .description(
        "serve custom.metrics.k8s.io, external.metrics.k8s.io and metrics.k8s.io from Prometheus (or kubelets)",
      )
      // The order of --help, as prometheus-adapter users know it; the groups interleave.
      .addOption(cfg.config())
      .addOption(cfg.disableConfigReload())
      .addOption(cfg.strictConfig())
      .addOption(prom.url())
      .addOption(prom.verb())
      .addOption(prom.header())
      .addOption(prom.tokenFile())
      .addOption(prom.caFile())
      .addOption(prom.clientCertFile())
      .addOption(prom.clientKeyFile())
      .addOption(prom.timeout())
      .addOption(prom.groupingMaxObjects())
      .addOption(prom.maxQueryLength())
      .addOption(prom.groupingWait())
      .addOption(prom.relistInterval())
      .addOption(prom.maxAge())
      .addOption(kubeFlags.listerKubeconfig())
      .addOption(serving.bindAddress())
      .addOption(serving.securePort())
      .addOption(serving.certDir())
      .addOption(serving.tlsCertFile())
      .addOption(serving.tlsPrivateKeyFile())
      .addOption(serving.tlsSniCertKey())
      .addOption(serving.tlsMinVersion())
      .addOption(serving.tlsCipherSuites())
      .addOption(serving.http2MaxStreams())
      .addOption(serving.maxRequestsInflight())
      .addOption(authn.kubeconfig())
      .addOption(authn.skipLookup())
      .addOption(authn.tolerateLookupFailure())
      .addOption(authn.tokenCacheTtl())
      .addOption(authn.clientCaFile())
      .addOption(authn.requestheaderClientCaFile())
      .addOption(authn.requestheaderAllowedNames())
      .addOption(authn.requestheaderUsernameHeaders())
      .addOption(authn.requestheaderGroupHeaders())
      .addOption(authn.requestheaderExtraHeadersPrefix())
      .addOption(authn.requestheaderUidHeaders())
      .addOption(authz.kubeconfig())
      .addOption(authz.alwaysAllowPaths())
      .addOption(authz.authorizedTtl())
      .addOption(authz.unauthorizedTtl())
      .addOption(authz.refreshAhead())
      .addOption(serving.shutdownGracePeriod())
      .addOption(serving.shutdownDelayDuration())
      .addOption(serving.insecureHttpPort())
      .addOption(kubeFlags.discoveryInterval())
      .addOption(kubeFlags.podCache())
      .addOption(kubeFlags.noPodCache())
      .addOption(serving.disableHttp2())
      .addOption(apisFlags.disableCustomMetrics())
      .addOption(apisFlags.disableExternalMetrics())
      .addOption(apisFlags.disableResourceMetrics())
      .addOption(res.source())
      .addOption(res.metricResolution())
      .addOption(res.preferredAddressTypes())
      .addOption(res.port())
      .addOption(res.useNodeStatusPort())
      .addOption(res.scheme())
      .addOption(res.insecureTls())
      .addOption(res.certificateAuthority())
      .addOption(res.clientCertificate())
      .addOption(res.clientKey())
      .addOption(res.requestTimeout())
      .addOption(res.nodeSelector())
      .addOption(compatibilityFlags.verbosity())
      // Checked by validateCompatibility: only the upstream image's entrypoint is let through.
      .allowExcessArguments(true)
      .action(async (o, cmd) => {
        // Validation first, before anything slow: a wrong flag stops the adapter at once, as in Go.
        const compat = validateCompatibility(
          cmd.args,
          (key) => cmd.getOptionValueSource(key) === "cli",
        );
        const servingConfig = validateServing(o);
        const log = createLogger(o.v);
        if (compat.entrypointIgnored) {
          log.info(
            `ignoring the argument ${UPSTREAM_ENTRYPOINT}: the prometheus-adapter image's entrypoint, passed by its Helm chart`,
          );
        }
        if (compat.inertFlags.length > 0) {
          log.info(
            { flags: compat.inertFlags },
            "flags accepted for compatibility, without effect",
          );
        }
        const { ciphers } = servingConfig;
        if (ciphers.unavailable.length > 0) {
          log.warn(
            { unavailable: ciphers.unavailable, tls13Only: ciphers.tls13Only },
            ciphers.tls13Only
              ? "--tls-cipher-suites: this Node.js/OpenSSL offers none of the TLS 1.2 suites listed, so only TLS 1.3 is served"
              : "--tls-cipher-suites: suites this Node.js/OpenSSL cannot offer are skipped; the others are offered",
          );
        }
        const promConfig = validatePrometheus(o);
        const resourceConfig = validateResourceMetrics(o);
        const source = validateConfigFile(o);
        const kubeConfig = validateKube(o);
        const apis = validateApis(o);
        const secure = servingConfig.insecurePort === undefined;
        const authnConfig = validateAuthentication(o);
        const authzConfig = validateAuthorization(o, secure);

        // The config: parsed now, compiled once discovery can name resources. Prometheus starts
        // on the first metric discovery meanwhile.
        const parsed = await readAdapterConfig(source);
        const metrics = createAdapterMetrics(VERSION);
        const prometheus = await buildPrometheusClient(promConfig.client, metrics);
        const early = startEarlyDiscovery(
          prometheus,
          parsed.config,
          apis,
          promConfig.relist.maxAgeMs,
        );
        const discovery = await buildDiscovery(kubeConfig);
        const { warnings } = parsed;
        const rules = compileAdapterConfig(
          parsed.config,
          discovery.naming,
          source.strict,
          warnings,
        );
        for (const w of warnings) log.warn({ configWarning: true }, formatIssue(w));
        metrics.configWarnings(warnings.length);

        const plan = planApis(apis, resourceConfig.source, parsed.config, rules);
        const podCache = buildPodCache({
          enabled: kubeConfig.podCache && plan.listsPods,
          kube: discovery.kube,
          log,
          metrics,
        });
        podCache?.start();
        const providers = buildPrometheusProviders({
          prometheus,
          rules,
          apis,
          plan,
          config: promConfig,
          kube: discovery.kube,
          mapper: discovery.mapper,
          podCache,
          metrics,
          log,
          early,
        });
        const resource =
          plan.resource === undefined
            ? undefined
            : buildResourceMetrics({
                source: plan.resource,
                config: parsed.config,
                kubelet: resourceConfig.kubelet,
                kubeconfig: kubeConfig.kubeconfig,
                prometheus,
                naming: discovery.naming,
                kube: discovery.kube,
                podCache,
                tenants: providers.backends.resourceTenants(),
                log,
              });
        discovery.start();
        resource?.start();
        providers.start();

        let terminating = false;
        const handler = buildApiHandler({
          groups: resource ? [...providers.groups, resource.group] : providers.groups,
          // Not ready from SIGTERM on (--shutdown-delay-duration), as the generic apiserver's /readyz.
          ready: () => !terminating && providers.lister.ready,
          version: VERSION,
          serverAddress: servingConfig.serverAddress,
          metrics,
          log,
        });
        const listener = await startServing({
          serving: servingConfig,
          authentication: authnConfig,
          authorization: authzConfig,
          handler,
          arrivals: providers.arrivals,
          registry: metrics.registry,
          debug: {
            custom: () => providers.lister.custom,
            external: () => providers.lister.external,
            ready: () => providers.lister.ready,
            lastError: () => providers.lister.lastError,
            tenancy: () => providers.backends.tenancy,
            prometheusUrl: prometheus.server,
          },
          log,
        });
        const watch =
          source.reload && source.path !== undefined && parsed.text !== undefined
            ? startConfigWatch({
                path: source.path,
                text: parsed.text,
                strict: source.strict,
                config: parsed.config,
                rules,
                naming: discovery.naming,
                providers,
                metrics,
                log,
              })
            : undefined;
        const stopBackground = () => {
          watch?.stop();
          providers.stop();
          resource?.stop();
          discovery.stop();
        };
        stopOnSignals(log, {
          beforeListener: () => {
            terminating = true;
          },
          // --shutdown-delay-duration, as k8s.io/apiserver's ShutdownDelayDuration
          // (pkg/server/genericapiserver.go): on SIGTERM the pod leaves its Service's endpoints
          // while clients (kube-proxy, the aggregator's connections and availability checks)
          // still send requests here for a moment; they are all answered, with fresh data, and
          // /readyz fails, until the delay ends and the graceful shutdown starts.
          listener: async () => {
            if (servingConfig.shutdownDelayMs > 0) {
              log.info(
                { delayMs: servingConfig.shutdownDelayMs },
                "not ready; serving on until --shutdown-delay-duration ends",
              );
              await sleep(servingConfig.shutdownDelayMs);
            }
            stopBackground();
            await listener.stop();
          },
          afterListener: () => {
            void podCache?.stop();
            return prometheus.close();
          },
        });
      })
  );
}
