"""The bundle's entry point.

- ``softphone [ARGS]``: the desktop app;
- ``softphone-cli [ARGS]`` (a link with that name) or ``softphone --cli [ARGS]``: the headless CLI;
- ``softphone -c CODE`` and ``softphone -m MODULE [ARGS]``: what ``python -c``/``-m`` would do. The app
  starts helpers as ``sys.executable -c/-m ...`` (the sound-device probe, the Qt self-test, the login
  item); in the bundle ``sys.executable`` is this program, so it answers them the same way.
"""

import os
import runpy
import sys

if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["-c"] and len(args) >= 2:
        sys.argv = ["-c", *args[2:]]
        exec(compile(args[1], "<string>", "exec"), {"__name__": "__main__"})
        sys.exit(0)
    if args[:1] == ["-m"] and len(args) >= 2:
        sys.argv = [args[1], *args[2:]]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
        sys.exit(0)
    if os.path.basename(sys.argv[0]).startswith("softphone-cli") or args[:1] == ["--cli"]:
        if args[:1] == ["--cli"]:
            del sys.argv[1]
        from softphone.cli import main as cli_main

        sys.exit(cli_main())
    from softphone.ui.app import main

    sys.exit(main())
