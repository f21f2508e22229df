#!/usr/bin/env python3
"""Builds curation's real-image benchmark from extracted Debian packages.

Usage: realbench.py PKGDIR OUTDIR [--full]

PKGDIR holds one folder per package (dpkg -x), as scripts/realbench.sh
leaves them. OUTDIR receives images/<set>/... and manifest.json. The
ground truth is made by these rules, never by looking at the pictures:

  icons   gnome-icon-theme: every 256x256 icon with the same artwork made
          here at 128, 64, 32 and 16 px (PIL LANCZOS, PNG) and over white as
          JPEG q80: one group. Names whose files are byte-identical are one
          group. Different names are different pictures: many are
          look-alikes (folder-documents and user-bookmarks differ in a small
          emblem, trophy-gold and trophy-silver in colour). The theme's own
          8..48 px files are left out: they are redrawn for the pixel grid,
          not copies (their pHash distance to the 256 px drawing spreads
          over 0..34, like the look-alikes').
  droids  freedroid-data: each droid's 32-frame turn-table strip; frames
          0, 4, 8 and 12 (views 45 degrees apart, none the mirror image of
          another: frame 24 is frame 8 mirrored) are four different
          pictures of one character, each a group with two re-encodes
          (JPEG q70, 1.5x LANCZOS PNG). Different droids share one body
          plan: look-alikes.
  pingus  pingus-data: frame 0 and the middle frame of every action of
          the pingu (walker, digger, basher, ...: one body, different
          gear), the pac-man ghosts (one drawing, four colours) and the
          chalk pingus, upscaled 3x (nearest, as a game shows them; a frame
          that the game reuses in another action, at most 2 % of its pixels
          changed by more than 8 levels, is left out): each a
          group of its own with a JPEG q85 re-encode over white; plus a
          hue-rotated copy (120 degrees) of every ghost and action frame
          with a mean chroma of at least 0.1, which is a different picture
          (a recolour).
  art     pingus and freedroid illustrations (JPEG backgrounds, story
          panels, title screens; --full adds gnome-backgrounds
          wallpapers): each a group with real re-encodes made here: JPEG
          q95, q75, q50, q30, half size q85, quarter size PNG, 0.8 size
          q60, a 3 % crop q90, mirrored q90. Hue rotations by 120 degrees (with their own
          q75 copy) of the pictures with a mean chroma of at least 0.1 are
          different pictures (the hue of a grey picture is no change). Textures that the game itself
          ships recoloured (darkjungle, nightjungle, ...) are different
          pictures too.
  lowinfo files of the same packages, at least 64x64, of which at least
          97 % of the pixels (over white) lie within 16 of the most common
          colour: blank or near-uniform pictures, which the quality filter
          must drop. Everything else in the benchmark must pass it.

Every item has a class (the character for sprites, the set otherwise) for
the cross-class tests. The manifest lists the package versions, every
file with its sha256, its group, set, class and how it was made.
"""
import hashlib
import io
import json
import math
import os
import re
import sys

import numpy
from PIL import Image, ImageOps

def sha(b):
    return hashlib.sha256(b).hexdigest()


class Builder:
    def __init__(self, pkgdir, outdir):
        self.pkgdir = pkgdir
        self.outdir = outdir
        self.items = []
        self.seen = {}  # sha -> item index (byte-identical files are one item)
        self.frames = []  # pixels of the sprite frames so far

    def origin(self, pkg, rel):
        return pkg + ":" + rel

    def path(self, pkg, rel):
        return os.path.join(self.pkgdir, pkg, rel)

    def add(self, set_, name, data, group, cls, origin, op):
        h = sha(data)
        if h in self.seen:
            return self.items[self.seen[h]]["group"]
        ext = {b"\x89P": "png", b"\xff\xd8": "jpg", b"RI": "webp"}[data[:2]]
        rel = "images/%s/%s.%s" % (set_, name, ext)
        full = os.path.join(self.outdir, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
        self.seen[h] = len(self.items)
        self.items.append({"file": rel, "sha256": h, "group": group, "set": set_,
                           "class": cls, "origin": origin, "op": op})
        return group

    # encoders -----------------------------------------------------------

    @staticmethod
    def png(im):
        b = io.BytesIO()
        im.save(b, "PNG")
        return b.getvalue()

    @staticmethod
    def jpeg(im, q):
        b = io.BytesIO()
        flat(im).save(b, "JPEG", quality=q)
        return b.getvalue()

    # sets ---------------------------------------------------------------

    def icons(self):
        root = "usr/share/icons/gnome/256x256"
        d = self.path("gnome-icon-theme", root)
        for cat in sorted(os.listdir(d)):
            for f in sorted(os.listdir(os.path.join(d, cat))):
                p = os.path.join(d, cat, f)
                if not f.endswith(".png") or os.path.islink(p):
                    continue
                name, rel = f[:-4], os.path.join(root, cat, f)
                with open(p, "rb") as fh:
                    data = fh.read()
                org = self.origin("gnome-icon-theme", rel)
                stem = "%s-%s" % (cat, name)
                group = self.add("icons", stem, data, "icon:%s/%s" % (cat, name), "icons", org, "copy")
                im = Image.open(p)
                im.load()
                for side in (128, 64, 32, 16):
                    self.add("icons", "%s-%d" % (stem, side), self.png(im.resize((side, side), Image.LANCZOS)),
                             group, "icons", org, "png %d lanczos" % side)
                self.add("icons", stem + "-q80", self.jpeg(im, 80), group, "icons", org, "jpeg q80 over white")

    def droids(self):
        d = "usr/share/games/freedroid/graphics"
        for f in sorted(os.listdir(self.path("freedroid-data", d))):
            if not re.fullmatch(r"\d{3}\.jpg", f):
                continue
            rel = os.path.join(d, f)
            strip = Image.open(self.path("freedroid-data", rel)).convert("RGB")
            w = strip.width // 32
            for fr in (0, 4, 8, 12):
                im = strip.crop((fr * w, 0, (fr + 1) * w, strip.height))
                group = "droid:%s/%d" % (f[:3], fr)
                op = "frame %d of 32" % fr
                self.add("droids", "%s-%02d" % (f[:3], fr), self.png(im), group, "droid-" + f[:3],
                         self.origin("freedroid-data", rel), op)
                self.add("droids", "%s-%02d-q70" % (f[:3], fr), self.jpeg(im, 70), group, "droid-" + f[:3],
                         self.origin("freedroid-data", rel), op + ", jpeg q70")
                big = im.resize((w * 3 // 2, strip.height * 3 // 2), Image.LANCZOS)
                self.add("droids", "%s-%02d-x1.5" % (f[:3], fr), self.png(big), group, "droid-" + f[:3],
                         self.origin("freedroid-data", rel), op + ", png 1.5x lanczos")

    def sprite_frames(self, rel, sheet_rel):
        """(frame images, frames across) of a pingus .sprite file."""
        with open(self.path("pingus-data", rel)) as f:
            text = f.read()
        arr = re.search(r"\(array (\d+) (\d+)\)", text)
        size = re.search(r"\(size (\d+) (\d+)\)", text)
        sheet = Image.open(self.path("pingus-data", sheet_rel)).convert("RGBA")
        if not arr:
            return [sheet]
        nx = int(arr.group(1))
        if size:
            fw, fh = int(size.group(1)), int(size.group(2))
        else:
            fw, fh = sheet.width // nx, sheet.height // int(arr.group(2))
        return [sheet.crop((i * fw, 0, (i + 1) * fw, fh)) for i in range(nx)]

    def pingus(self):
        base = "usr/share/games/pingus/data/images"
        pdir = os.path.join(base, "pingus/player0")
        for action in sorted(os.listdir(self.path("pingus-data", pdir))):
            spr = os.path.join(pdir, action, "right.sprite")
            if not os.path.isfile(self.path("pingus-data", spr)):
                continue
            with open(self.path("pingus-data", spr)) as f:
                img = re.search(r'\(image "([^"]+)"\)', f.read()).group(1)
            sheet = os.path.normpath(os.path.join(pdir, action, img))
            frames = self.sprite_frames(spr, sheet)
            for fr in sorted({0, len(frames) // 2}):
                self.sprite("pingu-%s-%d" % (action, fr), frames[fr], "pingu-" + action,
                            self.origin("pingus-data", sheet), "frame %d" % fr, recolour=True)
        for ghost in ("blinky", "clyde", "inky", "pinky", "pacman"):
            rel = os.path.join(base, "special/pacman", ghost + ".png")
            im = Image.open(self.path("pingus-data", rel)).convert("RGBA")
            self.sprite("pacman-" + ghost, im, "pacman-" + ghost, self.origin("pingus-data", rel), "copy",
                        recolour=True)
        for k in (1, 2, 3, 4):
            rel = os.path.join(base, "core/misc/chalk_pingu%d.png" % k)
            im = Image.open(self.path("pingus-data", rel)).convert("RGBA")
            self.sprite("chalk-pingu%d" % k, im, "chalk-pingu", self.origin("pingus-data", rel), "copy")

    def sprite(self, name, im, cls, origin, op, recolour=False):
        px = numpy.asarray(flat(im)).astype(numpy.int16)  # colour under alpha 0 does not count
        for other in self.frames:
            if other.shape == px.shape and (numpy.abs(other - px).max(axis=2) > 8).mean() <= 0.02:
                return  # the game reuses this frame in another action: one picture, left out
        self.frames.append(px)
        big = im.resize((im.width * 3, im.height * 3), Image.NEAREST)
        group = "sprite:" + name
        self.add("pingus", name, self.png(big), group, cls, origin, op + ", 3x nearest")
        self.add("pingus", name + "-q85", self.jpeg(big, 85), group, cls, origin, op + ", 3x nearest, jpeg q85 over white")
        if recolour and chroma(big) >= 0.1:
            self.add("pingus", name + "-hue120", self.png(hue(big, 120)), group + "/hue120", cls + "-hue120",
                     origin, op + ", 3x nearest, hue +120")

    def art(self, full):
        srcs = []
        base = "usr/share/games/pingus/data/images"
        for sub in ("textures", "worldmaps", "story"):
            d = self.path("pingus-data", os.path.join(base, sub))
            for f in sorted(os.listdir(d)):
                if f.endswith((".jpg", ".png")):
                    srcs.append(("pingus-data", os.path.join(base, sub, f)))
        d = "usr/share/games/freedroid/graphics"
        for f in ("title.jpg", "credits.jpg", "console_bg1.jpg", "console_bg2.jpg", "takeover_bg.jpg", "transfer.jpg"):
            srcs.append(("freedroid-data", os.path.join(d, f)))
        if full:
            d = "usr/share/backgrounds/gnome"
            for f in sorted(os.listdir(self.path("gnome-backgrounds", d))):
                if f.endswith((".webp", ".jpg", ".png")):
                    srcs.append(("gnome-backgrounds", os.path.join(d, f)))
        for pkg, rel in srcs:
            p = self.path(pkg, rel)
            with open(p, "rb") as f:
                data = f.read()
            im = Image.open(io.BytesIO(data))
            im.load()
            if im.width < 64 or im.height < 64 or lowinfo(im):
                continue
            if max(im.size) > 2048:  # wallpapers: a 2048 px original keeps the set small
                im = im.convert("RGB")
                im.thumbnail((2048, 2048), Image.LANCZOS)
                data = self.jpeg(im, 92)
            stem = pkg.split("-")[0] + "-" + os.path.splitext(os.path.basename(rel))[0]
            group = "art:" + stem
            org = self.origin(pkg, rel)
            self.add("art", stem, data, group, "art", org, "copy" if max(Image.open(p).size) <= 2048 else "2048 px jpeg q92")
            for q in (95, 75, 50, 30):
                self.add("art", "%s-q%d" % (stem, q), self.jpeg(im, q), group, "art", org, "jpeg q%d" % q)
            w, h = im.size
            self.add("art", stem + "-half", self.jpeg(im.resize((w // 2, h // 2), Image.LANCZOS), 85), group, "art", org,
                     "half size lanczos, jpeg q85")
            self.add("art", stem + "-quarter", self.png(im.resize((max(w // 4, 1), max(h // 4, 1)), Image.LANCZOS)), group,
                     "art", org, "quarter size lanczos, png")
            self.add("art", stem + "-0.8-q60", self.jpeg(im.resize((w * 4 // 5, h * 4 // 5), Image.LANCZOS), 60), group,
                     "art", org, "0.8 size lanczos, jpeg q60")
            cx, cy = w * 15 // 1000, h * 15 // 1000
            self.add("art", stem + "-crop3", self.jpeg(im.crop((cx, cy, w - cx, h - cy)), 90), group, "art", org,
                     "3 % crop (1.5 % off each side), jpeg q90")
            self.add("art", stem + "-mirror", self.jpeg(ImageOps.mirror(flat(im)), 90), group, "art", org,
                     "mirrored, jpeg q90")
            if chroma(im) < 0.1:
                continue  # a hue rotation of a grey picture is the same picture
            rc = hue(im, 120)
            self.add("art", stem + "-hue120", self.png(rc) if rc.mode == "RGBA" else self.jpeg(rc, 92),
                     group + "/hue120", "art", org, "hue +120")
            self.add("art", stem + "-hue120-q75", self.jpeg(rc, 75), group + "/hue120", "art", org, "hue +120, jpeg q75")

    def lowinfo(self):
        for pkg, base in (("pingus-data", "usr/share/games/pingus/data/images"),
                          ("freedroid-data", "usr/share/games/freedroid/graphics")):
            root = self.path(pkg, base)
            for dirpath, _, files in sorted(os.walk(root)):
                if "/fonts" in dirpath:
                    continue  # white glyphs on transparency: sheets, not pictures
                for f in sorted(files):
                    if not f.endswith((".png", ".jpg")):
                        continue
                    p = os.path.join(dirpath, f)
                    im = Image.open(p)
                    if im.width < 64 or im.height < 64 or max(im.size) > 4 * min(im.size):
                        continue
                    im.load()
                    if lowinfo(im):
                        with open(p, "rb") as fh:
                            data = fh.read()
                        rel = os.path.relpath(p, self.path(pkg, ""))
                        name = rel.replace("/", "_")[len(base):].strip("_").rsplit(".", 1)[0]
                        self.add("lowinfo", name, data, "lowinfo:" + name, "lowinfo", self.origin(pkg, rel), "copy")


def flat(im):
    """RGB over white (a JPEG has no alpha)."""
    if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, im).convert("RGB")
    return im.convert("RGB")


def lowinfo(im):
    """At least 97 % of the pixels (over white) within 16 of the modal colour."""
    rgb = flat(im)
    rgb.thumbnail((256, 256))
    colors = rgb.getcolors(rgb.width * rgb.height)
    mode = max(colors)[1]
    near = sum(n for n, c in colors if max(abs(c[i] - mode[i]) for i in range(3)) <= 16)
    return near >= 0.97 * rgb.width * rgb.height


def chroma(im):
    """Mean (max - min) / 255 over R, G, B, over white."""
    a = numpy.asarray(flat(im)).astype(numpy.float64)
    return float((a.max(axis=2) - a.min(axis=2)).mean() / 255)


def hue(im, deg):
    """The image with its hue turned by deg degrees in YIQ space (luma and
    alpha kept)."""
    src = numpy.asarray(im.convert("RGBA")).astype(numpy.float64)
    rgb = src[..., :3]
    to_yiq = numpy.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    t = math.radians(deg)
    rot = numpy.array([[1, 0, 0], [0, math.cos(t), -math.sin(t)], [0, math.sin(t), math.cos(t)]])
    m = numpy.linalg.inv(to_yiq) @ rot @ to_yiq
    out = numpy.clip(numpy.rint(rgb @ m.T), 0, 255).astype(numpy.uint8)
    alpha = src[..., 3].astype(numpy.uint8)
    if alpha.min() < 255:
        return Image.fromarray(numpy.dstack([out, alpha]), "RGBA")
    return Image.fromarray(out, "RGB")


def main(argv):
    full = "--full" in argv
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 2:
        sys.exit("usage: realbench.py PKGDIR OUTDIR [--full]")
    pkgdir, outdir = args
    b = Builder(pkgdir, outdir)
    b.lowinfo()
    b.icons()
    b.droids()
    b.pingus()
    b.art(full)
    versions = {}
    for pkg in sorted(os.listdir(pkgdir)):
        vf = os.path.join(pkgdir, pkg, ".version")
        if os.path.isfile(vf):
            with open(vf) as f:
                versions[pkg] = f.read().strip()
    groups = {it["group"] for it in b.items}
    manifest = {"form": "full" if full else "short", "packages": versions,
                "images": len(b.items), "groups": len(groups), "items": b.items}
    tmp = os.path.join(outdir, "manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=0, sort_keys=True)
        f.write("\n")
    os.replace(tmp, os.path.join(outdir, "manifest.json"))
    print("realbench: %d images in %d groups -> %s" % (len(b.items), len(groups), outdir))


if __name__ == "__main__":
    main(sys.argv[1:])
