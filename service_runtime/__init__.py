"""What every deployable runs on that is not a contract: problem+json rendering, database
bootstrap, JSON logging with the trace id, the settings base, and the nameko boot.

One piece each, imported by the monolith, the proxy and every service, so that they cannot
drift apart. It imports ``contracts`` and nothing else of the kit.
"""
