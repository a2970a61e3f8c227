"""The proxy's fault tests use the integration tests' real upstreams and real proxy."""

from tests.integration.strangler_proxy.conftest import (  # noqa: F401 (fixtures)
    fakes,
    start_proxy,
    upstreams,
    urls,
)
