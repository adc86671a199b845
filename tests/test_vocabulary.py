"""The shared vocabulary's predicates: which hosts are this machine, which images are placeholders."""

from __future__ import annotations

import pytest

from atlascan.vocabulary import (
    in_cluster_host,
    internal_host,
    internal_url,
    loopback_host,
    loopback_url,
    placeholder_image,
    reserved_host,
)


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST:8080",
        "127.0.0.1",
        "127.1.2.3:3141",
        "[::1]",
        "[::1]:8888",
        "::1",
        "0.0.0.0",
        "host.docker.internal",
        "app.localhost",
    ],
)
def test_hosts_on_this_machine(host: str) -> None:
    assert loopback_host(host)


@pytest.mark.parametrize(
    "host", ["localhost.example.com", "127.example.com", "10.0.0.1", "pypi.internal", "", "[::2]"]
)
def test_hosts_elsewhere(host: str) -> None:
    assert not loopback_host(host)


def test_urls() -> None:
    assert loopback_url("http://user@localhost:8080/predictions")
    assert loopback_url("grpc://127.0.0.1:8001")
    assert loopback_url("http://localhost:")  # the constant head of f"http://localhost:{port}"
    assert not loopback_url("http://localhost.example.com/simple")
    assert not loopback_url("http://[::1/")  # not a URL
    assert not loopback_url("http://")


@pytest.mark.parametrize(
    "host",
    ["cache-service.nginx-pypi-cache.svc.cluster.local", "minio.storage.svc:9000", "api.ns.svc.", "kubernetes.default.svc", "etcd.cluster.local"],
)
def test_hosts_inside_the_cluster(host: str) -> None:
    assert in_cluster_host(host) and internal_host(host)
    assert not loopback_host(host)  # another machine: a model it serves is still data from elsewhere


@pytest.mark.parametrize("host", ["svc", "svc.example.com", "mirror.svc.cluster.local.example.org", "my-svc", "cluster.local", "10.0.0.1"])
def test_hosts_outside_the_cluster(host: str) -> None:
    assert not internal_host(host)


def test_internal_urls() -> None:
    assert internal_url("http://cache-service.nginx-pypi-cache.svc.cluster.local/pypi/simple")
    assert internal_url("http://localhost:3141/simple")
    assert not internal_url("http://pypi.internal/simple")
    assert not internal_url("http://[::1/")


@pytest.mark.parametrize(
    "host",
    ["db.example.invalid", "pypi.example.invalid:443", "cache.staging.test", "mlflow.example", "app.localhost", "example.com", "db.example.org", "EXAMPLE.NET"],
)
def test_hosts_reserved_for_examples(host: str) -> None:
    assert reserved_host(host)


@pytest.mark.parametrize(
    "host", ["localhost", "test", "example.com.evil.io", "myexample.com", "pytest.org", "db.internal", "invalid.io", ""]
)
def test_hosts_that_may_run(host: str) -> None:
    assert not reserved_host(host)


@pytest.mark.parametrize("image", ["IMAGE_URL", "REPLACE_IMAGE", "CONTROLLER_IMAGE:TAG", "<your-image>", "<registry>/trainer:1.0", '"IMAGE_URI"'])
def test_placeholder_images(image: str) -> None:
    assert placeholder_image(image)


@pytest.mark.parametrize("image", ["controller:latest", "postgres", "python:3.11-slim", "ghcr.io/acme/trainer:V1", "Nginx", ""])
def test_images_that_are_not_placeholders(image: str) -> None:
    assert not placeholder_image(image)
