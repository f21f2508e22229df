#!/usr/bin/env python3
"""Reference pHash as Python's imagehash computes it (imagehash.phash with
hash_size=8, highfreq_factor=4): PIL decode, grayscale, LANCZOS resize to
32x32, 2-D DCT (scipy.fftpack), top-left 8x8 against its median.

imagehash itself is not installable here, so these are its lines, on
Debian's python3-pil and python3-scipy. Usage: imagehash_ref.py FILE...
Prints one line: "<n> images in <s> s: <n/s> images/s" and, with -v, each
file's hash in hex.
"""
import sys
import time

import numpy
import scipy.fftpack
from PIL import Image


def phash(image, hash_size=8, highfreq_factor=4):
    img_size = hash_size * highfreq_factor
    image = image.convert("L").resize((img_size, img_size), Image.Resampling.LANCZOS)
    pixels = numpy.asarray(image)
    dct = scipy.fftpack.dct(scipy.fftpack.dct(pixels, axis=0), axis=1)
    dctlowfreq = dct[:hash_size, :hash_size]
    med = numpy.median(dctlowfreq)
    return dctlowfreq > med


def main(argv):
    verbose = "-v" in argv
    files = [a for a in argv if a != "-v"]
    t0 = time.perf_counter()
    out = []
    for f in files:
        with Image.open(f) as im:
            bits = phash(im).flatten()
        out.append((f, "%016x" % int("".join("1" if b else "0" for b in bits), 2)))
    dt = time.perf_counter() - t0
    if verbose:
        for f, h in out:
            print(h, f)
    print("%d images in %.3f s: %.1f images/s" % (len(files), dt, len(files) / dt))


if __name__ == "__main__":
    main(sys.argv[1:])
