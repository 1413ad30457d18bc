"""desi_extract_spectra's command line on perfex: ``parse`` is desispec 0.70.0's parser (desispec/scripts/
extract.py: the same options, defaults and argparse prefixes), ``main`` runs the extraction with perfex's
`perfex extract` in this process and writes the frame file as perfex does."""

import argparse
import sys

import perfex
from perfex import _perfex

__all__ = ["command_line", "main", "parse"]


def parse(options=None):
    """desi_extract_spectra's options (desispec 0.70.0), plus --allow-camera-mismatch for perfex's camera
    check; returns an argparse.Namespace with desispec's attribute names."""
    p = argparse.ArgumentParser(description="Extract spectra from pre-processed raw data (perfex).")
    p.add_argument("-i", "--input", type=str, required=True, help="input image")
    p.add_argument("-f", "--fibermap", type=str, required=False, help="input fibermap file")
    p.add_argument("-p", "--psf", type=str, required=True, help="input psf file")
    p.add_argument("-o", "--output", type=str, required=True, help="output extracted spectra file")
    p.add_argument("-m", "--model", type=str, required=False, help="output 2D pixel model file")
    p.add_argument("-w", "--wavelength", type=str, required=False, help="wavemin,wavemax,dw")
    p.add_argument("-s", "--specmin", type=int, required=False, default=0, help="first spectrum to extract")
    p.add_argument("-n", "--nspec", type=int, required=False, help="number of spectra to extract")
    p.add_argument("-r", "--regularize", type=float, required=False, default=0.0,
                   help="regularization amount (default %(default)s)")
    p.add_argument("--bundlesize", type=int, required=False, default=25, help="number of spectra per bundle")
    p.add_argument("--nsubbundles", type=int, required=False, default=5, help="number of extraction sub-bundles")
    p.add_argument("--nwavestep", type=int, required=False, default=50,
                   help="number of wavelength steps per divide-and-conquer extraction step")
    p.add_argument("-v", "--verbose", action="store_true", help="print more stuff")
    p.add_argument("--mpi", action="store_true", help="Use MPI for parallelism")
    p.add_argument("--decorrelate-fibers", action="store_true", help="Not recommended (refused, as desispec's "
                   "gpu_specter path does)")
    p.add_argument("--no-scores", action="store_true", help="Do not compute scores")
    p.add_argument("--psferr", type=float, default=None, required=False,
                   help="fractional PSF model error used to compute chi2 and mask pixels (default = value saved in "
                   "psf file)")
    p.add_argument("--barycentric-correction", action="store_true", help="apply barycentric correction to wavelength")
    p.add_argument("--use-specter", action="store_true", help="specter's default grid; the extraction is perfex's")
    p.add_argument("--no-gpu", action="store_true", help="accepted; perfex runs on its build's execution space")
    p.add_argument("--pixpad-frac", type=float, default=0.8,
                   help="fraction of a PSF spotsize to pad in pixels when extracting")
    p.add_argument("--wavepad-frac", type=float, default=0.2,
                   help="fraction of a PSF spotsize to pad in wavelengths when extracting")
    p.add_argument("--allow-camera-mismatch", action="store_true",
                   help="extract even when the image's and the PSF's CAMERA differ (perfex's check)")
    return p.parse_args(options)


def command_line(args):
    """The `perfex extract` options for desi_extract_spectra's arguments (an argparse.Namespace from
    ``parse`` or from desispec's own parse), with --overwrite: desi_extract_spectra replaces an existing
    output (desi_proc skips the cameras whose frame exists before it runs the extraction)."""
    def get(name, default=None):
        return getattr(args, name, default)

    out = ["-i", str(args.input), "-p", str(args.psf), "-o", str(args.output), "--overwrite"]
    for flag, name in (("-f", "fibermap"), ("-m", "model"), ("-w", "wavelength"), ("-n", "nspec"),
                       ("--psferr", "psferr")):
        if get(name) is not None:
            out += [flag, str(get(name))]
    for flag, name, default in (("-s", "specmin", 0), ("-r", "regularize", 0.0), ("--bundlesize", "bundlesize", 25),
                                ("--nsubbundles", "nsubbundles", 5), ("--nwavestep", "nwavestep", 50),
                                ("--pixpad-frac", "pixpad_frac", 0.8), ("--wavepad-frac", "wavepad_frac", 0.2)):
        out += [flag, repr(get(name, default))]
    for flag, name in (("-v", "verbose"), ("--decorrelate-fibers", "decorrelate_fibers"),
                       ("--no-scores", "no_scores"), ("--barycentric-correction", "barycentric_correction"),
                       ("--use-specter", "use_specter"), ("--no-gpu", "no_gpu"),
                       ("--allow-camera-mismatch", "allow_camera_mismatch")):
        if get(name, False):
            out.append(flag)
    return out


def _world():
    try:
        from mpi4py import MPI
    except ImportError:
        raise perfex.UsageError("--mpi: mpi4py is not importable") from None
    return MPI.COMM_WORLD


def main(args=None, comm=None):
    """desi_extract_spectra with perfex: ``args`` is a list of its options (default: sys.argv[1:]) or an
    argparse.Namespace (``parse``'s or desispec's). Writes the frame (and the model) as `perfex extract` does,
    replacing an existing output as desi_extract_spectra does; returns 0. Errors: perfex.UsageError (a
    ValueError; argparse's own errors exit with SystemExit(2) as in desispec) and perfex.DataError, with the
    perfex program's messages. With --mpi or ``comm`` (an mpi4py communicator) rank 0 extracts, using its
    threads, and the other ranks wait for it and raise its error if any."""
    if not isinstance(args, argparse.Namespace):
        args = parse(sys.argv[1:] if args is None else list(args))
    line = command_line(args)
    if comm is None and getattr(args, "mpi", False):
        comm = _world()
    if comm is None or comm.size == 1:
        return _perfex._run_extract_command(line)
    outcome = None
    if comm.rank == 0:
        try:
            outcome = (_perfex._run_extract_command(line), None)
        except Exception as e:  # noqa: BLE001  (the other ranks raise it too)
            outcome = (None, e)
    code, error = comm.bcast(outcome, root=0)
    if error is not None:
        raise error
    return code


def console_main():
    """The `perfex-desi-extract-spectra` command (pip's entry point) and ``python -m perfex.desi``:
    ``main`` with perfex's exit codes (0 success, 1 data error, 2 usage error) and one-line messages."""
    try:
        return main()
    except perfex.Error as e:
        print(f"perfex.desi: error: {e}", file=sys.stderr)
        return e.exit_code
