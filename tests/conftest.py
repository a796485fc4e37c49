"""End-to-end fixtures: the platform's real processes, as `make run` starts them."""
from __future__ import annotations

import pytest

from tillkey.devtools.launcher import Platform, free_port
from tillkey.devtools.topology import DEFAULT_PORTS, PlatformConfig
from tillkey.testing import servers
from tillkey.testing.platform_client import PlatformClient


@pytest.fixture(scope="module")
def platform(amqp_server_url, tmp_path_factory, request):
    """Every service's API and worker, a mail sink, on free ports, own databases and vhost."""
    amqp_url, vhost = servers.create_vhost(amqp_server_url)
    config = PlatformConfig(amqp_url=amqp_url, data_dir=tmp_path_factory.mktemp("platform"),
                            ports={name: free_port() for name in DEFAULT_PORTS},
                            admin_token="e2e-admin-token", platform_secret="e2e-platform-secret",
                            # One gunicorn worker per API: the suite starts many platforms on 2 cores.
                            extra_env={"WEB_CONCURRENCY": "1", **getattr(request.module, "PLATFORM_ENV", {})})
    plat = Platform(config)
    try:
        plat.start(only=[n for n in _names(plat) if n != "demo-receiver"])
        yield plat
    except Exception:
        print(plat.logs())
        raise
    finally:
        plat.stop()
        servers.delete_vhost(vhost)


@pytest.fixture
def client(platform):
    urls = {name: platform.config.url(name) for name in
            ("orders", "payments", "fulfillment", "notifications", "webhooks", "sandbox")}
    return PlatformClient(urls, platform.config.admin_token)


def _names(plat: Platform) -> list[str]:
    from tillkey.devtools.topology import processes
    return list(processes(plat.config))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    plat = item.funcargs.get("platform") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and plat is not None:
        report.sections.append(("platform logs", plat.logs()))
