"""nameko tests need eventlet's monkey-patching, which must never happen in the main
pytest process. ``tests/integration/test_nameko_suite.py`` runs them in a process of their
own (so a plain ``pytest tests`` runs them too); alone:

    KIT_NAMEKO_TESTS=1 .venv/bin/python -m pytest -p no:pact tests/integration/nameko
"""

import os

if os.environ.get("KIT_NAMEKO_TESTS") == "1":
    import eventlet

    eventlet.monkey_patch()
else:
    collect_ignore_glob = ["test_*.py"]
