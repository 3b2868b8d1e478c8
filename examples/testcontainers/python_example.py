"""signsim from a Python test with Testcontainers (pip install testcontainers requests).

The image is this repository's Dockerfile: `docker build -t signsim .`.
"""
import requests
from testcontainers.core.container import DockerContainer
from testcontainers.core.waiting_utils import wait_for_logs


def test_with_signsim():
    with (
        DockerContainer("signsim:latest")
        .with_exposed_ports(8800)
        .with_env("SIGNSIM_SEED", "1")
    ) as signsim:
        # The log line written once it listens (standard error, RUST_LOG=info).
        wait_for_logs(signsim, "signsim listening on", timeout=30)
        base = f"http://{signsim.get_container_host_ip()}:{signsim.get_exposed_port(8800)}"
        assert requests.get(f"{base}/_signsim/health", timeout=5).json()["status"] == "ok"
        hello = requests.get(f"{base}/uanataca/api/v1/hello", timeout=5)
        assert hello.json()["details"] == "Hello"
        # Links the simulator hands out name http://127.0.0.1:8800 (inside the container):
        # replace that prefix with `base`, or map a fixed host port and set
        # SIGNSIM_PUBLIC_URL to it.
