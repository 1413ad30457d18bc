"""``python -m perfex.desi ARGS``: desi_extract_spectra's command line on perfex, with perfex's exit codes (0
success, 1 data error, 2 usage error) and one-line messages."""
import sys

import perfex
from perfex.desi.script import main

if __name__ == "__main__":
    try:
        sys.exit(main())
    except perfex.Error as e:
        print(f"perfex.desi: error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
