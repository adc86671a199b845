"""docker-compose services: published ports, privileges, host namespaces, host mounts and
image pins. `command`/`entrypoint` text goes to the command-line rules, and literal
`environment:` credentials to the core secrets rules."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from atlascan import vocabulary
from atlascan.engines.manifests import common, crossfile
from atlascan.engines.manifests.nodes import emit, get, items, text
from atlascan.parsers.yaml import Mapping, Scalar, YNode

if TYPE_CHECKING:
    from atlascan.analysis import FileContext

HOST_NAMESPACE_FIELDS = ("network_mode", "pid", "ipc")
ESCAPE_CAPABILITIES = frozenset({"SYS_ADMIN", "CAP_SYS_ADMIN", "ALL"})
# A published port's host address that means every interface (none given, too). The
# server-flag spellings (`*`, `0`, `::0`) are not what compose files write: left out.
ALL_INTERFACES = vocabulary.ALL_INTERFACES - {"*", "0", "::0"}
PORT_RANGE = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")


def check_document(root: YNode, ctx: FileContext) -> None:
    services = root.get("services") if isinstance(root, Mapping) else None
    if not isinstance(services, Mapping):
        return
    lines = ctx.doc.lines
    seen: set[int] = set()  # a service that is an alias of another is checked once
    for name, _, service in services.entries():
        if not isinstance(service, Mapping) or id(service) in seen:
            continue
        seen.add(id(service))
        label = f"`{name}`"
        context = common.region_text(lines, service.line, service.end_line) + " " + name.lower()
        context += "\n" + (crossfile.service_command(ctx.facts, ctx.file.path, name) or "").lower()
        if not crossfile.shell_service(ctx.facts, ctx.file.path, name):  # nothing listens until started by hand
            _ports(label, service, context, ctx)
        _privileges(label, service, ctx)
        _volumes(label, service, ctx)
        _image(label, service, ctx)


def _ports(label: str, service: Mapping, context: str, ctx: FileContext) -> None:
    for entry in items(service.get("ports")):
        if isinstance(entry, Mapping):
            host_ip = (entry.text("host_ip") or "").strip()
            targets = _port_range(entry.text("target"))
            shown = f"{entry.text('published') or '(random)'}:{entry.text('target')}"
        elif isinstance(entry, Scalar):
            host_ip, _, target = _split_short_port(entry.value)
            shown = entry.value.strip()
            targets = _port_range(target)
        else:
            continue
        if host_ip not in ALL_INTERFACES:
            continue
        for port in targets:
            server = common.ml_server(port, context, check_auth=True)
            if server:
                emit(
                    ctx,
                    "ATS-CMP-001",
                    entry,
                    args={"service": label, "port": shown, "server": server},
                )
                break


def _split_short_port(raw: str) -> tuple[str, str | None, str | None]:
    """(host ip, published, target) of `[[ip:]published:]target[/proto]`; IPv6 in brackets."""
    value = raw.strip().split("/", 1)[0]
    host_ip = ""
    if value.startswith("["):
        close = value.find("]")
        host_ip, value = value[: close + 1], value[close + 2 :]
    parts = value.split(":")
    if len(parts) >= 3:
        host_ip, parts = ":".join(parts[:-2]), parts[-2:]
    if len(parts) == 2:
        return host_ip, parts[0], parts[1]
    return host_ip, None, parts[0]


def _port_range(value: str | None) -> list[int]:
    m = PORT_RANGE.match((value or "").strip())
    if not m:
        return []
    first = int(m.group(1))
    last = int(m.group(2) or first)
    return list(range(first, min(last, first + 100) + 1))


def _privileges(label: str, service: Mapping, ctx: FileContext) -> None:
    privileged = service.get("privileged")
    if privileged is not None and (text(privileged) or "").strip().lower() in ("true", "yes", "on"):
        emit(
            ctx,
            "ATS-CMP-002",
            service.key_node("privileged"),
            privileged,
            args={"service": label, "what": "runs privileged"},
        )
    for cap in items(service.get("cap_add")):
        name = (text(cap) or "").strip().upper()
        if name in ESCAPE_CAPABILITIES:
            emit(
                ctx,
                "ATS-CMP-002",
                cap,
                args={"service": label, "what": f"adds the {name} capability"},
            )
    for field in HOST_NAMESPACE_FIELDS:
        value = service.get(field)
        if (text(value) or "").strip().lower() == "host" and value is not None:
            # PyTorch's and AMD's documented recipe for a GPU container's DataLoader workers
            # (the shared memory of the host's IPC namespace): what every such service does.
            gpu_ipc = field == "ipc" and _uses_gpus(service)
            emit(
                ctx,
                "ATS-CMP-003",
                service.key_node(field),
                value,
                args={"service": label, "field": field},
                properties={"practice": "`ipc: host` for a GPU container's shared memory, as PyTorch documents"} if gpu_ipc else None,
            )


# Device files of GPUs a service is handed (`/dev/kfd`, `/dev/dri` for ROCm, `/dev/nvidia0`),
# or of Ascend NPUs (`/dev/davinci0`, `/dev/davinci_manager`), which train the same way.
GPU_DEVICES = re.compile(r"^/dev/(?:kfd|dri|nvidia|davinci)")


def _uses_gpus(service: Mapping) -> bool:
    """Whether a compose service is handed GPUs: a `deploy` device reservation with the `gpu`
    capability or the nvidia driver, `runtime: nvidia`, or GPU (or NPU) device files."""
    if (text(service.get("runtime")) or "").strip().lower() == "nvidia":
        return True
    if any(GPU_DEVICES.match((text(d) or "").strip()) for d in items(service.get("devices"))):
        return True
    reservations = get(service, "deploy", "resources", "reservations")
    for device in items(reservations.get("devices") if isinstance(reservations, Mapping) else None):
        if isinstance(device, Mapping) and (
            (device.text("driver") or "").strip().lower() == "nvidia"
            or any((text(c) or "").strip().lower() == "gpu" for c in items(device.get("capabilities")))
        ):
            return True
    return False


def _volumes(label: str, service: Mapping, ctx: FileContext) -> None:
    for entry in items(service.get("volumes")):
        if isinstance(entry, Mapping):
            if (entry.text("type") or "bind") != "bind":
                continue
            source = entry.text("source")
        elif isinstance(entry, Scalar):
            source = entry.value.split(":", 1)[0] if ":" in entry.value else None
        else:
            continue
        if not source or not source.strip().startswith("/"):
            continue  # named volumes and project-relative paths
        why = common.sensitive_host_path(source)
        if why:
            emit(
                ctx,
                "ATS-CMP-004",
                entry,
                args={"service": label, "path": source.strip(), "why": f" ({why})"},
            )


def _image(label: str, service: Mapping, ctx: FileContext) -> None:
    image = service.get("image")
    if not isinstance(image, Scalar) or "build" in service or common.is_template(image.value):
        return
    ref = common.unpinned_image(image.value)
    if ref:
        emit(
            ctx,
            "ATS-CMP-005",
            image,
            args={"service": label, "image": image.value.strip(), "ref": ref},
            properties=crossfile.compose_pin_properties(ctx.facts, ref),
        )
