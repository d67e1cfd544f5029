import sys

from bloodview.cli.main import main

sys.exit(main())
