"""``python -m perfex.desi ARGS``: desi_extract_spectra's command line on perfex, with perfex's exit codes (0
success, 1 data error, 2 usage error) and one-line messages."""
import sys

from perfex.desi.script import console_main

if __name__ == "__main__":
    sys.exit(console_main())
