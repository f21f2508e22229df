"""The reference for dataset build's speed (BENCHMARKS.md, section dataset):
the same work as chara's build of a pad-fit dataset, in Python with PIL.

    python3 pil_build.py SRC_DIR DST_DIR HEIGHT WIDTH [box|fit]

For every *.jpg under SRC_DIR, in 2 processes: open, draft decode, LANCZOS
resize to fit inside WIDTH x HEIGHT, pad with white, JPEG quality 95, write
to a temporary file, fsync, rename into DST_DIR. The draft asks libjpeg for
the output box WIDTH x HEIGHT ("box", PIL's documented use of draft: for a
1200x1800 source it decodes at 1/4, 300x450) or for the fitted size
("fit", the default: 1/8, 150x225, exactly what the pad needs; the
stronger baseline).
"""
import os
import sys
from multiprocessing import Pool

from PIL import Image

H, W = int(sys.argv[3]), int(sys.argv[4])
DRAFT = sys.argv[5] if len(sys.argv) > 5 else "fit"


def one(job):
    src, dst = job
    im = Image.open(src)
    s = min(W / im.width, H / im.height)
    rw, rh = max(1, min(W, round(im.width * s))), max(1, min(H, round(im.height * s)))
    im.draft("RGB", (W, H) if DRAFT == "box" else (rw, rh))
    im = im.convert("RGB").resize((rw, rh), Image.LANCZOS)
    out = Image.new("RGB", (W, H), (255, 255, 255))
    out.paste(im, ((W - rw) // 2, (H - rh) // 2))
    tmp = dst + ".tmp"
    with open(tmp, "wb") as f:
        out.save(f, "JPEG", quality=95)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, dst)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(dst, exist_ok=True)
    jobs = []
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if name.endswith(".jpg"):
                jobs.append((os.path.join(root, name), os.path.join(dst, name)))
    with Pool(2) as p:
        p.map(one, jobs, chunksize=4)
    print(len(jobs))


if __name__ == "__main__":
    main()
