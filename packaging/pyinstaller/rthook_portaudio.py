# PyInstaller runtime hook: on Linux, sounddevice finds PortAudio with ctypes.util.find_library("portaudio"),
# which only looks at the system. A bundle that carries its own copy (the AppImage's) points it there.
import ctypes.util
import os
import sys

_bundled = os.path.join(getattr(sys, "_MEIPASS", ""), "libportaudio.so.2")
if sys.platform.startswith("linux") and os.path.exists(_bundled):
    _find_library = ctypes.util.find_library

    def _find_bundled(name, _find=_find_library):
        return _bundled if name == "portaudio" else _find(name)

    ctypes.util.find_library = _find_bundled
