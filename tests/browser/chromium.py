"""Headless Chromium for the browser tests: screenshots, and a check that Chinese text really rendered.

Why a reference page: when CJK fonts are missing, Chromium draws every Chinese
character as a box (tofu). Boxes are dark pixels too, so "is there ink in the
title?" cannot tell. Instead the page is shot twice: as it is, and with every CJK
ideograph replaced by U+2FFFD, an unassigned code point of the ideograph plane
that no font has a glyph for. Unicode gives it the line-break class of an
ideograph, so both pages break and justify their lines alike. Without CJK fonts
both shots show the same boxes in the same places and are pixel-identical (the
negative test proves it); with them, the Chinese glyphs differ from the boxes
almost everywhere there is ink.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import numpy as np

from flows.round_report import chromium_command

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
NO_GLYPH = "\U0002FFFD"  # unassigned, line-break class ID: drawn as the fallback box, laid out like a 汉字


def tofu_variant(html: str) -> str:
    """The same page with every CJK ideograph replaced by one that has no glyph anywhere (punctuation kept)."""
    return CJK.sub(NO_GLYPH, html)


def screenshot(binary: str, page: Path, png: Path, profile: Path, *, size: tuple[int, int] = (900, 1300),
               env: dict[str, str] | None = None, timeout: float = 120) -> Path:
    cmd = chromium_command(binary, profile) + [
        f"--window-size={size[0]},{size[1]}", f"--screenshot={png}", page.resolve().as_uri()
    ]
    done = subprocess.run(cmd, capture_output=True, timeout=timeout, env={**os.environ, **(env or {})}, check=False)
    if not png.is_file():
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise AssertionError(f"chromium wrote no screenshot (exit {done.returncode}): {' | '.join(tail)}")
    return png


def gray(png: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(png) as im:
        return np.asarray(im.convert("L"), dtype=np.int16)


def ink(img: np.ndarray, box: tuple[int, int, int, int]) -> int:
    """Dark pixels (< 128) inside box = (left, top, right, bottom)."""
    left, top, right, bottom = box
    return int((img[top:bottom, left:right] < 128).sum())


def glyph_difference(real: np.ndarray, reference: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Of the pixels inked in either shot inside `box`, the share that differ clearly (> 64 grey levels)."""
    left, top, right, bottom = box
    a, b = real[top:bottom, left:right], reference[top:bottom, left:right]
    inked = (a < 128) | (b < 128)
    if not inked.any():
        return 0.0
    return float((np.abs(a - b) > 64)[inked].mean())


def fontconfig_without_cjk(folder: Path) -> dict[str, str]:
    """An environment whose fontconfig sees one Latin font (or none): what a machine without CJK fonts has."""
    fonts, cache = folder / "fonts", folder / "cache"
    fonts.mkdir(parents=True, exist_ok=True)
    cache.mkdir(exist_ok=True)
    latin = subprocess.run(["fc-match", "-f", "%{file}", "sans:lang=en"], capture_output=True, text=True, check=False)
    path = Path(latin.stdout.strip()) if latin.returncode == 0 else None
    if path and path.is_file() and "cjk" not in path.name.lower():
        (fonts / path.name).write_bytes(path.read_bytes())
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        f"<fontconfig><dir>{fonts}</dir><cachedir>{cache}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    return {"FONTCONFIG_FILE": str(conf)}


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))


def pdf_fonts(data: bytes) -> set[str]:
    return {m.decode("ascii", "replace").split("+", 1)[-1] for m in re.findall(rb"/FontName\s*/([\w+-]+)", data)}
