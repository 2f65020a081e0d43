"""Drives a Podlink daemon through python-podman 1.6, podman 1.x's own client library.

Usage: python3 python_podman_check.py ADDRESS IMAGE TARBALL [REGISTRY]
With REGISTRY (host:port of a registry the daemon may use, holding one:1 and listed in
its search registries) the registry calls are checked too.
Prints one "ok STEP" line per step that worked and exits 0; on the first failure it
prints "failed STEP: ..." with the traceback and exits 1. Every call below is one the
library makes as written for podman 1.9 (podman's Go service read fields it leaves
out as zero values; Podlink must too).
"""
import collections
import collections.abc
import json
import os
import shutil
import signal
import sys
import tempfile
import traceback

# python-podman 1.6 predates Python 3.10, which moved MutableMapping.
collections.MutableMapping = collections.abc.MutableMapping
import podman  # noqa: E402

ADDRESS, IMAGE, TARBALL = sys.argv[1:4]
REGISTRY = sys.argv[4] if len(sys.argv) > 4 else None
current = "connect"


def step(name):
    global current
    current = name


def ok():
    print("ok", current, flush=True)


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


try:
    client = podman.Client(uri=ADDRESS)
    ok()

    step("system")
    expect(client.system.ping() is True, "ping")
    versions = client.system.versions
    expect(versions.version and versions.remote_api_version == 1, f"versions {versions}")
    info = client.system.info()
    expect(info.host["os"] == "linux" and info.store["graph_driver_name"], f"info {info}")
    ok()

    step("images")
    listed = client.images.list()
    expect(any(IMAGE in image["repoTags"] for image in listed), f"list {[i['repoTags'] for i in listed]}")
    image = client.images.get(IMAGE)
    inspected = image.inspect()
    expect(inspected.config["env"], f"inspect config {inspected.config}")
    expect(inspected.repotags == [IMAGE], f"repotags {inspected.repotags}")
    expect(hasattr(inspected, "labels"), "labels")
    ok()

    step("create with the library's defaults")
    # An image as registries ship them: a Cmd, an environment, labels. The library builds
    # the whole Create from its inspect data: args from RepoTags and Cmd, env as bare
    # names, and always podman's default network, bridge.
    with client._client() as raw:
        shipped_id = raw.ImportImage(TARBALL, "localhost/pp-shipped:latest", "", [
            "CMD /bin/sh -c 'echo shipped $GREETING'", "ENV GREETING=from-image", "LABEL vendor=podlink"], False)["image"]
    shipped = client.images.get(shipped_id)
    expect(shipped.inspect().labels == {"vendor": "podlink"}, f"labels {shipped.inspect().labels}")
    defaulted = shipped.create()
    defaulted.start()
    with client._client() as raw:
        settings = json.loads(raw.InspectContainer(defaulted.id)["container"])["NetworkSettings"]
    expect(settings["IPAddress"].startswith("10.88.") and settings["Gateway"] == "10.88.0.1", f"on the default bridge: {settings}")
    expect(defaulted.wait() == 0, "the image's Cmd ran")
    expect(list(defaulted.logs()) == ["shipped from-image"], f"bare env names take the image's values: {list(defaulted.logs())}")
    defaulted.remove()
    ok()

    step("containers")
    container = image.create(
        name="pp-c1", args=[IMAGE, "/bin/sh", "-c", "echo started; trap 'exit 0' TERM; while true; do sleep 0.1; done"], command=[],
        network="none", env=["GREETING=hi", "PATH"], label=["suite=python"])
    expect(container.status == "configured", f"status {container.status}")
    container.start()
    expect(container.status == "running", f"after start {container.status}")
    processes = list(container.processes())
    expect(processes and processes[0].split("\t")[1] == "PID", f"processes {processes}")
    expect(any("sleep" in line or "sh" in line for line in processes[1:]), f"processes {processes}")
    changes = container.changes()
    expect(set(changes) >= {"changed", "added", "deleted"}, f"changes {changes}")
    stats = container.stats()
    expect(stats.mem_usage > 0 and stats.pids >= 1, f"stats {stats}")
    container.pause()
    expect(container.status == "paused", f"after pause {container.status}")
    container.unpause()
    expect(container.status == "running", f"after unpause {container.status}")
    container.restart(timeout=5)
    expect(container.status == "running", f"after restart {container.status}")
    logs = list(container.logs())
    expect(any("started" in line for line in logs), f"logs {logs}")
    details = container.inspect()
    expect(details.config["labels"] == {"suite": "python"}, f"labels {details.config}")
    expect("GREETING=hi" in details.config["env"], f"env {details.config['env']}")
    container.stop(timeout=5)
    expect(container.wait() == 0, "wait after stop")
    container.start()
    container.kill(signal.SIGKILL, wait=10)
    expect(container.status == "exited", f"after kill {container.status}")
    expect(container.wait() == 137, "killed: 137")
    expect(client.containers.get("pp-c1").names == "pp-c1", "get by name")
    expect("pp-c1" in [c.names for c in client.containers.list()], "list")
    container.remove()
    expect("pp-c1" not in [c.names for c in client.containers.list()], "removed")
    ok()

    step("images: tag, import with delete, remove, delete unused")
    image.tag("localhost/pp-tagged:v1")
    expect("localhost/pp-tagged:v1" in client.images.get(IMAGE)["repoTags"], "tagged")
    copy = os.path.join(tempfile.mkdtemp(), "rootfs.tar")
    shutil.copy(TARBALL, copy)
    # The library's import_image cannot set delete; its raw handle can.
    with client._client() as raw:
        imported = raw.ImportImage(copy, "localhost/pp-imported:latest", "from python", [], True)["image"]
    expect(not os.path.exists(copy), "delete removed the tarball")
    extra = client.images.get(imported)
    expect(extra.inspect().comment == "from python", "message kept")
    extra.remove(force=True)
    keeper = image.create(name="pp-keeper", args=[IMAGE, "/bin/true"], command=[], network="none")
    deleted = client.images.delete_unused()
    expect(image.id not in deleted, f"the image a container uses stays: {deleted}")
    keeper.remove()
    ok()

    step("pods: create, list, get, inspect, start, top, stats, pause, unpause, restart, stop, kill, remove")
    pod = client.pods.create("pp-pod")  # the library's default: no infra container
    member = image.create(name="pp-pc", args=[IMAGE, "sh", "-c", "trap 'exit 0' TERM; sleep 300 & wait"], command=[], network="none", pod="pp-pod")
    expect("pp-pod" in [p.name for p in client.pods.list()], "list")
    pod = client.pods.get("pp-pod")
    expect(pod.numberofcontainers == "1" and pod.status == "Created", f"get {pod.numberofcontainers} {pod.status}")
    inspected = pod.inspect()
    expect(inspected.id == pod.id and inspected.containers[0]["id"] == member.id, f"inspect {inspected}")
    pod.start()
    expect(pod.status == "Running", f"start {pod.status}")
    # pod.top() itself reads a key TopPod never had; the raw handle gets the rows.
    with client._client() as raw:
        rows = raw.TopPod(pod.id)["stats"]
    expect(rows[0].startswith("USER") and any("sleep 300" in row for row in rows[1:]), f"top {rows}")
    stats = list(pod.stats())
    expect(len(stats) == 1 and stats[0].name == "pp-pc", f"stats {stats}")
    pod.pause()
    expect(pod.status == "Paused", f"pause {pod.status}")
    pod.unpause()
    pod.restart()
    expect(pod.status == "Running", f"restart {pod.status}")
    pod.stop()  # no timeout sent: podman's 0, killed at once
    expect(pod.status == "Exited", f"stop {pod.status}")
    pod.start()
    pod.kill(signal.SIGKILL, wait=10)
    for _ in range(100):
        if pod.refresh().status == "Exited":
            break
    expect(pod.status == "Exited", f"kill {pod.status}")
    expect(pod.remove(force=True) == pod.id, "remove")
    expect("pp-pod" not in [p.name for p in client.pods.list()], "removed")
    expect("pp-pc" not in [c.names for c in client.containers.list()], "its container went with it")
    ok()
    if REGISTRY:
        step("registry: pull, search, history, commit, export, push")
        source = f"{REGISTRY}/one:1"
        pulled = client.images.get(client.images.pull(source))
        expect(source in pulled["repoTags"], f"pulled {pulled['repoTags']}")
        found = [result.name for result in client.images.search("one")]
        expect(f"{REGISTRY}/one" in found, f"search {found}")
        # Image.history() is shadowed by the reply's `history` key; the raw handle reads it.
        with client._client() as raw:
            history = raw.HistoryImage(pulled.id)["history"]
        expect(history[0]["id"] == pulled.id and history[-1]["id"] == "<missing>", f"history {history}")
        container = pulled.create(name="pp-commit", args=[source, "/bin/busybox", "touch", "/made"], command=[], network="none")
        container.start()
        expect(container.wait() == 0, "the container ran")
        committed_id = container.commit("localhost/pp-committed:1", message="from python", change=["LABEL=made=python", "CMD=/bin/sh"])
        committed = client.images.get(committed_id)
        expect(committed.inspect().labels.get("made") == "python", f"labels {committed.inspect().labels}")
        exported = os.path.join(tempfile.mkdtemp(), "container.tar")
        expect(container.export(exported) == exported and os.path.getsize(exported) > 0, "export")
        archive = os.path.join(tempfile.mkdtemp(), "image.tar")
        expect(committed.export(f"docker-archive:{archive}") == committed_id and os.path.exists(archive), "image export")
        expect(committed.push(f"{REGISTRY}/pp-committed:1") == committed_id, "push")
        container.remove()
        committed.remove(force=True)
        expect(client.images.get(client.images.pull(f"{REGISTRY}/pp-committed:1")).id == committed_id, "pulled back")
        ok()
except Exception:
    print(f"failed {current}:", flush=True)
    traceback.print_exc()
    sys.exit(1)
