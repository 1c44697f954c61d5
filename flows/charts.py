"""Small inline SVG charts for the round report, drawn in Python without a plotting library.

Why hand-made SVG: the report must be byte-identical for the same round (it sits
beside ranking.csv in out/ and in the manifest), readable offline and printable,
and its Chinese labels must use whatever CJK font the reader's browser has.
A plotting library would add a heavy dependency, font discovery at render time
and renderer-version drift in the bytes; SVG text is shaped by the browser.

Every function returns one `<svg>` element as a string. Coordinates are written
with one decimal (`_n`), so the output depends only on the inputs. Each chart
carries `data-chart="<kind>"` and a `<title>`, so tests and screen readers can
find it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Sequence

FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'
AXIS = "#444"
GRID = "#ddd"


@dataclass(frozen=True)
class Series:
    """A group of marks drawn in one colour (an outcome, an indicator)."""

    key: str
    label: str
    color: str


@dataclass(frozen=True)
class Marker:
    """A labelled reference line at `value` on the value axis (pass mark, cut-off, grade edge)."""

    value: float
    label: str
    color: str
    dash: str = "6 3"


def _n(x: float) -> str:
    """A coordinate with one decimal and no '-0.0': the only way numbers enter the SVG."""
    s = f"{x:.1f}"
    s = "0.0" if s == "-0.0" else s
    return s[:-2] if s.endswith(".0") else s


def _t(text: str) -> str:
    return escape(text, quote=True)


def _open(kind: str, width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{kind}" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family=\'{FONT}\' font-size="12">',
        f"<title>{_t(title)}</title>",
    ]


def nice_step(span: float, target: int = 6) -> float:
    """A 1/2/5×10ⁿ tick step giving about `target` ticks over `span`."""
    if span <= 0:
        return 1.0
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag  # pragma: no cover - the loop always returns


def _ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    step = nice_step(hi - lo, target)
    first = math.ceil(lo / step - 1e-9) * step
    out, v = [], first
    while v <= hi + 1e-9:
        out.append(round(v, 10))
        v += step
    return out


def _label(v: float) -> str:
    return str(int(round(v))) if abs(v - round(v)) < 1e-9 else f"{v:g}"


def _legend(series: Sequence[Series], x: float, y: float, max_x: float) -> tuple[list[str], int]:
    """Colour keys from (x, y), wrapping before `max_x`; returns the elements and the number of rows."""
    out, cx, rows = [], x, 1
    for s in series:
        w = 28 + 13 * len(s.label)
        if cx > x and cx + w > max_x:
            cx, y, rows = x, y + 18, rows + 1
        out.append(f'<rect x="{_n(cx)}" y="{_n(y - 10)}" width="12" height="12" fill="{s.color}"/>')
        out.append(f'<text x="{_n(cx + 16)}" y="{_n(y)}">{_t(s.label)}</text>')
        cx += w
    return out, rows


HALO = 'paint-order="stroke" stroke="#fff" stroke-width="3" stroke-linejoin="round"'


def _vmarker(m: Marker, x: float, top: float, bottom: float, row: int) -> list[str]:
    return [
        f'<line x1="{_n(x)}" y1="{_n(top)}" x2="{_n(x)}" y2="{_n(bottom)}" stroke="{m.color}" '
        f'stroke-width="1.5" stroke-dasharray="{m.dash}" class="marker"/>',
        f'<text x="{_n(x + 3)}" y="{_n(top + 12 + 14 * row)}" fill="{m.color}" {HALO} class="marker-label">{_t(m.label)}</text>',
    ]


def histogram(
    values: dict[str, Sequence[float]],
    series: Sequence[Series],
    *,
    lo: float,
    hi: float,
    bin_width: float,
    markers: Sequence[Marker] = (),
    title: str,
    x_label: str,
    y_label: str,
    width: int = 720,
    height: int = 300,
) -> str:
    """Counts per bin [lo + i·w, lo + (i+1)·w), the last bin closed at `hi`, stacked by series."""
    n_bins = max(1, math.ceil((hi - lo) / bin_width - 1e-9))
    counts = {s.key: [0] * n_bins for s in series}
    for s in series:
        for v in values.get(s.key, ()):
            i = min(n_bins - 1, max(0, int(math.floor((v - lo) / bin_width + 1e-9))))
            counts[s.key][i] += 1
    totals = [sum(counts[s.key][i] for s in series) for i in range(n_bins)]
    y_max = max(1, max(totals, default=0))
    y_ticks = [t for t in _ticks(0, y_max, 5) if float(t).is_integer()]
    y_top = max(y_max, y_ticks[-1] if y_ticks else y_max)
    left, right, top, bottom = 48, 16, 30, 44
    pw, ph = width - left - right, height - top - bottom
    sx = lambda v: left + (v - lo) / (hi - lo) * pw  # noqa: E731
    sy = lambda c: top + ph - c / y_top * ph  # noqa: E731
    out = _open("histogram", width, height, title)
    for t in y_ticks:
        out.append(f'<line x1="{left}" y1="{_n(sy(t))}" x2="{left + pw}" y2="{_n(sy(t))}" stroke="{GRID}"/>')
        out.append(f'<text x="{left - 6}" y="{_n(sy(t) + 4)}" text-anchor="end">{_label(t)}</text>')
    bw = pw / n_bins
    for i in range(n_bins):
        base = 0
        for s in series:
            c = counts[s.key][i]
            if c:
                y0, y1 = sy(base + c), sy(base)
                out.append(
                    f'<rect class="bar" data-series="{_t(s.key)}" data-bin="{_label(lo + i * bin_width)}" data-count="{c}" '
                    f'x="{_n(left + i * bw + 1)}" y="{_n(y0)}" width="{_n(bw - 2)}" height="{_n(y1 - y0)}" fill="{s.color}"/>'
                )
                base += c
    for t in _ticks(lo, hi, 10):
        out.append(f'<text x="{_n(sx(t))}" y="{top + ph + 16}" text-anchor="middle">{_label(t)}</text>')
    out += _axes(left, top, pw, ph)
    for row, m in enumerate(sorted(markers, key=lambda m: m.value)):
        if lo <= m.value <= hi:
            out += _vmarker(m, sx(m.value), top, top + ph, row)
    return _finish(out, series, left, top, pw, ph, width, right, height, x_label, y_label)


def _axes(left: float, top: float, pw: float, ph: float) -> list[str]:
    """The x axis along the bottom and the y axis along the left of the plot area."""
    return [f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="{AXIS}"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="{AXIS}"/>']


def _finish(out: list[str], series: Sequence[Series], left: float, top: float, pw: float, ph: float,
            width: float, right: float, height: float, x_label: str, y_label: str) -> str:
    """Axis titles, the legend and the closing tag of an x/y chart."""
    out.append(f'<text x="{left + pw / 2:.1f}" y="{height - 6}" text-anchor="middle">{_t(x_label)}</text>')
    out.append(f'<text x="12" y="{top + ph / 2:.1f}" text-anchor="middle" transform="rotate(-90 12 {top + ph / 2:.1f})">{_t(y_label)}</text>')
    out += _legend(series, left, 16, width - right)[0]
    out.append("</svg>")
    return "\n".join(out)


def rank_scatter(
    points: Sequence[tuple[int, float, str]],
    series: Sequence[Series],
    *,
    band: tuple[int, int] | None,
    band_label: str,
    markers: Sequence[Marker] = (),
    title: str,
    x_label: str,
    y_label: str,
    width: int = 720,
    height: int = 300,
    max_dots: int = 600,
) -> str:
    """Score (y) against rank (x); the ranks in `band` (first, last) shaded; a dot per application.

    Over `max_dots` applications only the line is drawn, so a 20,000-application
    round still gives a small file.
    """
    if not points:
        return ""
    colors = {s.key: s.color for s in series}
    n = max(r for r, _, _ in points)
    scores = [v for _, v, _ in points] + [m.value for m in markers]
    y_lo = max(0.0, math.floor((min(scores) - 5) / 10) * 10)
    y_hi = min(100.0, math.ceil((max(scores) + 1) / 10) * 10) if max(scores) <= 100 else max(scores)
    if y_hi <= y_lo:
        y_hi = y_lo + 10
    left, right, top, bottom = 48, 16, 30, 44
    pw, ph = width - left - right, height - top - bottom
    sx = lambda r: left + (r - 0.5) / n * pw  # noqa: E731
    sy = lambda v: top + ph - (v - y_lo) / (y_hi - y_lo) * ph  # noqa: E731
    out = _open("rank-score", width, height, title)
    if band is not None:
        x0, x1 = sx(band[0] - 0.5), sx(band[1] + 0.5)
        out.append(
            f'<rect class="band" data-first="{band[0]}" data-last="{band[1]}" x="{_n(x0)}" y="{top}" '
            f'width="{_n(x1 - x0)}" height="{ph}" fill="#2e7d32" fill-opacity="0.12"/>'
        )
        out.append(f'<text x="{_n(x0 + 4)}" y="{top + ph - 6}" fill="#2e7d32">{_t(band_label)}</text>')
    for t in _ticks(y_lo, y_hi, 5):
        out.append(f'<line x1="{left}" y1="{_n(sy(t))}" x2="{left + pw}" y2="{_n(sy(t))}" stroke="{GRID}"/>')
        out.append(f'<text x="{left - 6}" y="{_n(sy(t) + 4)}" text-anchor="end">{_label(t)}</text>')
    for t in [t for t in _ticks(1, n, 10) if float(t).is_integer()]:
        out.append(f'<text x="{_n(sx(t))}" y="{top + ph + 16}" text-anchor="middle">{_label(t)}</text>')
    last_y, shift = -100.0, 0.0
    for m in sorted(markers, key=lambda m: m.value):
        y = sy(m.value)
        shift = shift + 110 if abs(y - last_y) < 14 else 0.0  # labels of close lines side by side
        last_y = y
        out.append(
            f'<line x1="{left}" y1="{_n(y)}" x2="{left + pw}" y2="{_n(y)}" stroke="{m.color}" stroke-width="1.5" '
            f'stroke-dasharray="{m.dash}" class="marker"/>'
        )
        out.append(
            f'<text x="{_n(left + pw - 4 - shift)}" y="{_n(y - 4)}" text-anchor="end" fill="{m.color}" {HALO} '
            f'class="marker-label">{_t(m.label)}</text>'
        )
    ordered = sorted(points)
    path = " ".join(f"{_n(sx(r))},{_n(sy(v))}" for r, v, _ in ordered)
    out.append(f'<polyline points="{path}" fill="none" stroke="#90a4ae" stroke-width="1"/>')
    if len(ordered) <= max_dots:
        for r, v, key in ordered:
            out.append(
                f'<circle class="dot" data-rank="{r}" data-score="{v:.2f}" cx="{_n(sx(r))}" cy="{_n(sy(v))}" r="3.5" '
                f'fill="{colors.get(key, AXIS)}"/>'
            )
    out += _axes(left, top, pw, ph)
    return _finish(out, series, left, top, pw, ph, width, right, height, x_label, y_label)


def diverging_bars(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    x_label: str,
    value_format: str = "{:+.2f}",
    width: int = 720,
    bar_height: int = 22,
    positive: str = "#c62828",
    negative: str = "#1565c0",
) -> str:
    """One horizontal bar per item from a zero line: right (positive) in one colour, left in another."""
    if not items:
        return ""
    finite = [abs(v) for _, v in items if math.isfinite(v)]
    limit = max(0.5, math.ceil(max(finite, default=0.5) * 1.15 * 2) / 2)  # room for the value labels
    label_w, right, top = 150, 60, 14
    pw = width - label_w - right
    height = top + bar_height * len(items) + 40
    zero = label_w + pw / 2
    sx = lambda v: zero + v / limit * (pw / 2)  # noqa: E731
    out = _open("diverging", width, height, title)
    for t in _ticks(-limit, limit, 8):
        out.append(f'<line x1="{_n(sx(t))}" y1="{top}" x2="{_n(sx(t))}" y2="{top + bar_height * len(items)}" stroke="{GRID}"/>')
        out.append(f'<text x="{_n(sx(t))}" y="{top + bar_height * len(items) + 14}" text-anchor="middle">{_label(t)}</text>')
    for i, (name, v) in enumerate(items):
        y = top + i * bar_height
        out.append(f'<text x="{label_w - 8}" y="{_n(y + bar_height * 0.7)}" text-anchor="end">{_t(name)}</text>')
        if not math.isfinite(v):
            out.append(f'<text x="{_n(zero + 4)}" y="{_n(y + bar_height * 0.7)}" fill="{AXIS}">—</text>')
            continue
        x0, x1 = sorted((zero, sx(v)))
        out.append(
            f'<rect class="bar" data-item="{_t(name)}" data-value="{v:.4f}" x="{_n(x0)}" y="{_n(y + 3)}" '
            f'width="{_n(max(x1 - x0, 0.5))}" height="{bar_height - 6}" fill="{positive if v > 0 else negative}"/>'
        )
        tx, anchor = (x1 + 4, "start") if v >= 0 else (x0 - 4, "end")
        out.append(f'<text x="{_n(tx)}" y="{_n(y + bar_height * 0.7)}" text-anchor="{anchor}">{_t(value_format.format(v))}</text>')
    out.append(f'<line x1="{_n(zero)}" y1="{top}" x2="{_n(zero)}" y2="{top + bar_height * len(items)}" stroke="{AXIS}"/>')
    out.append(f'<text x="{_n(zero)}" y="{height - 6}" text-anchor="middle">{_t(x_label)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def stacked_bars(
    rows: Sequence[tuple[str, Sequence[float], str]],
    series: Sequence[Series],
    *,
    x_max: float,
    markers: Sequence[Marker] = (),
    title: str,
    x_label: str,
    width: int = 720,
    bar_height: int = 22,
) -> str:
    """One horizontal bar per row made of the parts in `series` order (e.g. indicator contributions).

    A row is (label, parts, total label): the total is written by the caller (the exact,
    rounded score), not summed here from the float parts.
    """
    if not rows:
        return ""
    label_w, right = 190, 48
    pw = width - label_w - right
    legend, legend_rows = _legend(series, 8, 14, width - 8)
    top = 14 + 18 * legend_rows + 16
    height = top + bar_height * len(rows) + 40
    sx = lambda v: label_w + v / x_max * pw  # noqa: E731
    bottom = top + bar_height * len(rows)
    out = _open("stacked", width, height, title)
    for t in _ticks(0, x_max, 10):
        out.append(f'<line x1="{_n(sx(t))}" y1="{top}" x2="{_n(sx(t))}" y2="{bottom}" stroke="{GRID}"/>')
        out.append(f'<text x="{_n(sx(t))}" y="{bottom + 14}" text-anchor="middle">{_label(t)}</text>')
    for i, (name, parts, total) in enumerate(rows):
        y = top + i * bar_height
        out.append(f'<text x="{label_w - 8}" y="{_n(y + bar_height * 0.7)}" text-anchor="end">{_t(name)}</text>')
        acc = 0.0
        for s, v in zip(series, parts):
            if v > 0:
                out.append(
                    f'<rect class="bar" data-series="{_t(s.key)}" data-value="{v:.4f}" x="{_n(sx(acc))}" y="{_n(y + 3)}" '
                    f'width="{_n(sx(acc + v) - sx(acc))}" height="{bar_height - 6}" fill="{s.color}"/>'
                )
                acc += v
        out.append(f'<text x="{_n(sx(acc) + 4)}" y="{_n(y + bar_height * 0.7)}" {HALO}>{_t(total)}</text>')
    for m in sorted(markers, key=lambda m: m.value):
        if 0 <= m.value <= x_max:
            x = sx(m.value)
            out.append(
                f'<line x1="{_n(x)}" y1="{top - 2}" x2="{_n(x)}" y2="{bottom}" stroke="{m.color}" stroke-width="1.5" '
                f'stroke-dasharray="{m.dash}" class="marker"/>'
            )
            out.append(f'<text x="{_n(x)}" y="{top - 5}" text-anchor="middle" fill="{m.color}" class="marker-label">{_t(m.label)}</text>')
    out.append(f'<text x="{_n(label_w + pw / 2)}" y="{height - 6}" text-anchor="middle">{_t(x_label)}</text>')
    out += legend
    out.append("</svg>")
    return "\n".join(out)
