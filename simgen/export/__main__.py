import sys

from simgen.export.cli import main

sys.exit(main())
