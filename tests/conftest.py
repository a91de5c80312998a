"""Settings every test shares."""

import os

# GUI tests never need a screen; a real window is only used for screenshots (docs).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
