"""tests/deploy: the rules and checks beside these tests are plain modules, imported by name."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
