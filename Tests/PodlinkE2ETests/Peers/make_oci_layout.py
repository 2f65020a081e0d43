#!/usr/bin/env python3
"""Build a deterministic OCI image layout (stdlib only) for seeding a test registry.

  make_oci_layout.py OUT --tag TAG [--layers 3] [--busybox /bin/busybox]
                        [--platforms linux/amd64,linux/arm64]

--padding N adds N random bytes to each layer (the same bytes for the same layer
number), --vary-last K makes only the last layer differ: for pulls that share layers.

One platform  -> index.json references an image manifest (tag TAG).
Two or more   -> index.json references an OCI image index (tag TAG) that
                 references one image manifest per platform.
Push with:  skopeo copy [--all] --dest-tls-verify=false oci:OUT:TAG docker://HOST:PORT/NAME:TAG

Layer i (1-based) contains /layers/<i>.txt ("layer i arch A") and, if --busybox is
given, layer 1 also holds /bin/busybox and /bin/sh -> busybox.  Layers are
gzip'ed with mtime=0 and tar headers are normalised, so digests are stable
across runs (the config has a fixed "created").  Prints a JSON summary.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import random
import tarfile

FIXED_TIME = 946684800  # 2000-01-01T00:00:00Z


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def write_blob(out, data):
    d = sha(data)
    p = os.path.join(out, "blobs", "sha256", d.split(":")[1])
    with open(p, "wb") as f:
        f.write(data)
    return {"digest": d, "size": len(data)}


def make_tar(files):
    """files: list of (path, bytes | ('symlink', target) | ('dir', None), mode)"""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for path, content, mode in files:
            ti = tarfile.TarInfo(path)
            ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = FIXED_TIME, 0, 0, "", ""
            ti.mode = mode
            if isinstance(content, tuple) and content[0] == "dir":
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            elif isinstance(content, tuple) and content[0] == "symlink":
                ti.type, ti.linkname = tarfile.SYMTYPE, content[1]
                tf.addfile(ti)
            else:
                ti.size = len(content)
                tf.addfile(ti, io.BytesIO(content))
    return buf.getvalue()


def gz(data):
    buf = io.BytesIO()
    # Level 1: the padding is random and does not compress anyway; it only costs CPU.
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=1) as g:
        g.write(data)
    return buf.getvalue()


def build_image(out, nlayers, os_, arch, busybox, padding=0, vary_last=0):
    layers, diff_ids = [], []
    for i in range(1, nlayers + 1):
        files = [("layers", ("dir", None), 0o755),
                 ("layers/%d.txt" % i, ("layer %d arch %s\n" % (i, arch)).encode(), 0o644)]
        if padding:
            # Incompressible, and the same for the same layer number (so two images share
            # layers), except the last layer when vary_last is set.
            seed = i + (1000 * vary_last if i == nlayers else 0)
            files.append(("layers/%d.pad" % i, random.Random(seed).randbytes(padding), 0o644))
        if i == 1 and busybox:
            with open(busybox, "rb") as f:
                bb = f.read()
            files = [("bin", ("dir", None), 0o755), ("bin/busybox", bb, 0o755),
                     ("bin/sh", ("symlink", "busybox"), 0o777)] + files
        raw = make_tar(files)
        diff_ids.append(sha(raw))
        desc = write_blob(out, gz(raw))
        desc["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
        layers.append(desc)
    config = {
        "created": "2000-01-01T00:00:00Z",
        "architecture": arch, "os": os_,
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["/bin/sh"] if busybox else ["/layers/1.txt"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2000-01-01T00:00:00Z", "created_by": "layer %d" % (i + 1)}
                    for i in range(nlayers)],
    }
    if arch == "arm64":
        config["variant"] = "v8"
    cdesc = write_blob(out, json.dumps(config, separators=(",", ":")).encode())
    cdesc["mediaType"] = "application/vnd.oci.image.config.v1+json"
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": cdesc, "layers": layers}
    mdesc = write_blob(out, json.dumps(manifest, separators=(",", ":")).encode())
    mdesc["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    return mdesc, {"config": cdesc["digest"], "layers": [l["digest"] for l in layers],
                   "diff_ids": diff_ids}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--tag", default="latest")
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--busybox")
    ap.add_argument("--platforms", default="linux/amd64")
    ap.add_argument("--padding", type=int, default=0, help="random bytes added to each layer")
    ap.add_argument("--vary-last", type=int, default=0, help="a different last layer (shares the others)")
    a = ap.parse_args()
    os.makedirs(os.path.join(a.out, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(a.out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    plats = [p.split("/") for p in a.platforms.split(",")]
    summary = {"tag": a.tag, "images": {}}
    if len(plats) == 1:
        top, info = build_image(a.out, a.layers, plats[0][0], plats[0][1], a.busybox, a.padding, a.vary_last)
        summary["images"]["%s/%s" % tuple(plats[0][:2])] = dict(info, manifest=top["digest"])
    else:
        mans = []
        for p in plats:
            d, info = build_image(a.out, a.layers, p[0], p[1], a.busybox if p[1] == "amd64" else None)
            d["platform"] = {"architecture": p[1], "os": p[0]}
            if p[1] == "arm64":
                d["platform"]["variant"] = "v8"
            mans.append(d)
            summary["images"]["/".join(p)] = dict(info, manifest=d["digest"])
        idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": mans}
        top = write_blob(a.out, json.dumps(idx, separators=(",", ":")).encode())
        top["mediaType"] = "application/vnd.oci.image.index.v1+json"
    top["annotations"] = {"org.opencontainers.image.ref.name": a.tag}
    with open(os.path.join(a.out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": [top]}, f)
    summary["top"] = top
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
