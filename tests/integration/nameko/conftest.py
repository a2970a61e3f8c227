"""nameko tests need eventlet's monkey-patching, which must never happen in the main
pytest process (STACK.md). They run in their own invocation (see the Makefile):

    KIT_NAMEKO_TESTS=1 .venv/bin/python -m pytest -p no:pact tests/integration/nameko
"""

import os

if os.environ.get("KIT_NAMEKO_TESTS") == "1":
    import eventlet

    eventlet.monkey_patch()
else:
    collect_ignore_glob = ["test_*.py"]
