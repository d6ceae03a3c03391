import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageRepo, knownImages, localCommand, type ContainerRequest } from "./images.ts";

const req = (image: string, extra: Partial<ContainerRequest> = {}): ContainerRequest => ({
  image,
  name: "c",
  podIp: "127.1.0.9",
  dir: mkdtempSync(join(tmpdir(), "kcm-img-")),
  ports: [],
  command: [],
  args: [],
  env: { POD_NAME: "web-1" },
  ...extra,
});

test("image references reduce to their repository", () => {
  assert.equal(imageRepo("nginx"), "nginx");
  assert.equal(imageRepo("nginx:1.27"), "nginx");
  assert.equal(imageRepo("docker.io/library/nginx:1.27"), "nginx");
  assert.equal(imageRepo("nginx@sha256:abc"), "nginx");
  assert.equal(imageRepo("localhost:5000/team/app:v1"), "localhost:5000/team/app");
  assert.equal(
    imageRepo("ghcr.io/x/k8s-custom-metrics/demo-app:0.1"),
    "ghcr.io/x/k8s-custom-metrics/demo-app",
  );
});

test("nginx runs Debian's nginx on the pod IP and each declared port", () => {
  const r = req("nginx:1.27", { ports: [80, 8080] });
  const cmd = localCommand(r);
  assert.equal(cmd?.command, "nginx");
  const conf = readFileSync(join(r.dir, "nginx.conf"), "utf8");
  assert.match(conf, /listen 127\.1\.0\.9:80;/);
  assert.match(conf, /listen 127\.1\.0\.9:8080;/);
  assert.match(conf, /stub_status/);
  assert.match(conf, /daemon off;/);
});

test("shell images run the container's command on the host; unknown images map to nothing", () => {
  assert.deepEqual(localCommand(req("busybox", { command: ["sh", "-c"], args: ["sleep 1"] })), {
    command: "sh",
    args: ["-c", "sleep 1"],
  });
  assert.equal(localCommand(req("example.com/unknown:1")), undefined);
  assert.ok(knownImages().includes("nginx"));
});

test("our image runs this checkout's CLI: entrypoint serve, the container's args, the pod IP last", () => {
  const cmd = localCommand(
    req("ghcr.io/k8s-custom-metrics/k8s-custom-metrics:v0.1.0", {
      args: ["--secure-port=6443", "--bind-address=0.0.0.0"],
    }),
  );
  assert.ok(cmd);
  assert.equal(cmd.command, process.execPath);
  assert.match(cmd.args[0] ?? "", /bin\/k8s-custom-metrics\.js$/);
  assert.deepEqual(cmd.args.slice(1), [
    "serve",
    "--secure-port=6443",
    "--bind-address=0.0.0.0",
    "--bind-address=127.1.0.9",
  ]);
  const overridden = localCommand(
    req("ghcr.io/k8s-custom-metrics/k8s-custom-metrics", {
      command: ["/nodejs/bin/node", "/app/bin/k8s-custom-metrics.js", "validate"],
    }),
  );
  assert.ok(overridden);
  assert.deepEqual(overridden.args.slice(1, 2), ["validate"]);
});
