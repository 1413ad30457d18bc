#!/usr/bin/env python3
"""Simulate one bundle of a DESI r-camera frame, extract it with perfex and plot one spectrum with its
truth and its chi2pix. Usage: plot_spectrum.py [OUTPUT.png] (default spectrum.png)."""
import os
import sys

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import perfex  # noqa: E402

output = sys.argv[1] if len(sys.argv) > 1 else "spectrum.png"
fiber = 3

# A synthetic DESI-like PSF and a simulated frame: fibers 0..24 lit with perfex's built-in spectra on the r
# camera's grid, Poisson and read noise, 200 cosmic rays.
psf = perfex.synthetic_psf("r0", seed=1)
wave = perfex.linear_wavelengths(5760, 7620, 0.8)
sim = perfex.simulate(psf, wave, nspec=25, seed=1, cosmics=200)

# Extraction of that bundle (numpy arrays in, numpy arrays out).
frame = perfex.extract(sim["image"], sim["ivar"], psf, wave, mask=sim["mask"], specmin=0, nspec=25)

# The truth in electrons per Angstrom, and as the extraction sees it (convolved with the resolution).
truth = sim["photons"] / np.gradient(wave)
rtruth = perfex.apply_resolution(frame["resolution"], truth)
good = (frame["ivar"][fiber] > 0) & ((frame["mask"][fiber] & 1) == 0)
pull = ((frame["flux"][fiber] - rtruth[fiber]) * np.sqrt(frame["ivar"][fiber]))[good][5:-5]

fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
ax1.plot(wave, frame["flux"][fiber], lw=0.6, color="k", label="perfex flux")
ax1.plot(wave, rtruth[fiber], lw=0.8, color="tab:orange", label="truth (resolution-convolved)")
ax1.plot(wave, truth[fiber], lw=0.5, color="tab:blue", alpha=0.5, label="truth")
ax1.set_ylabel("electrons / Angstrom")
ax1.set_title(f"fiber {fiber} ({sim['objtype'][fiber]} {sim['spectype'][fiber]}, z = {sim['redshift'][fiber]:.3f}): "
              f"pulls mean {pull.mean():+.3f} std {pull.std():.3f}")
ax1.legend(loc="upper right", fontsize=8)
ax2.plot(wave, frame["chi2pix"][fiber], lw=0.6, color="tab:red")
ax2.set_ylabel("chi2pix")
ax2.set_xlabel("wavelength [Angstrom]")
fig.tight_layout()
os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
fig.savefig(output, dpi=120)
with open(output, "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n", f"{output} is not a PNG file"
print(f"wrote {output}: fiber {fiber}, {wave.size} bins, pulls mean {pull.mean():+.3f} std {pull.std():.3f}")
