"""report.html: one self-contained page of KPIs and inline SVG plots (matplotlib)."""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
    "th:first-child,td:first-child{text-align:left}figure{margin:1em 0}"
)


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _flat(kpis: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in kpis.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _table(names: Sequence[str], kpis: Sequence[dict[str, Any]]) -> str:
    flats = [_flat(k) for k in kpis]
    keys = list(flats[0])
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td>"
        + "".join(f"<td>{html.escape(str(f.get(k, '')))}</td>" for f in flats)
        + "</tr>"
        for k in keys
    )
    return f"<table><tr><th>KPI</th>{head}</tr>{rows}</table>"


def _throughput(names: Sequence[str], results: Sequence[dict[str, Any]]) -> str:
    fig, ax = plt.subplots(figsize=(8, 3))
    for name, r in zip(names, results, strict=True):
        s = r["series"]
        per_h = np.asarray(s["shipped_per_bin"]) / s["throughput_bin_h"]
        ax.step(np.arange(len(per_h)) * s["throughput_bin_h"], per_h, where="post", label=name)
    ax.set(xlabel="shift hour", ylabel="orders shipped / h", title="Throughput over time")
    ax.legend()
    return _svg(fig)


def _samples(
    names: Sequence[str],
    results: Sequence[dict[str, Any]],
    keys: Sequence[str],
    title: str,
    ylabel: str,
) -> str:
    fig, ax = plt.subplots(figsize=(8, 3))
    for name, r in zip(names, results, strict=True):
        t = [x["t_h"] for x in r["series"]["samples"]]
        for key in keys:
            label = key if len(names) == 1 else f"{name}: {key}"
            ax.plot(t, [x[key] for x in r["series"]["samples"]], label=label)
    ax.set(xlabel="shift hour", ylabel=ylabel, title=title)
    ax.legend(fontsize="small")
    return _svg(fig)


def _bars(names: Sequence[str], values: Sequence[float], title: str, ylabel: str) -> str:
    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(names) + 2), 3))
    ax.bar(list(names), list(values), color="#4a7ab5")
    for i, v in enumerate(values):
        ax.text(i, v, f"{v:.2f}", ha="center", va="bottom")
    ax.set(title=title, ylabel=ylabel)
    return _svg(fig)


def _heatmap(heat: list[list[int]], title: str) -> str:
    fig, ax = plt.subplots(figsize=(8, 4))
    arr = np.asarray(heat, dtype=float).T  # rows: height along the aisle, columns: aisles
    im = ax.imshow(arr, origin="lower", aspect="auto", cmap="inferno")
    fig.colorbar(im, ax=ax, label="picks")
    ax.set(
        xlabel="aisle (depot at the bottom of aisle 0)", ylabel="slot along the aisle", title=title
    )
    return _svg(fig)


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def run_report(result: dict[str, Any]) -> str:
    """The report of one run."""
    k = result["kpis"]
    u = k["utilisation"]
    body = [
        "<h2>KPIs</h2>",
        _table([k["scenario"]], [k]),
        "<h2>Throughput</h2>",
        _throughput([k["scenario"]], [result]),
        "<h2>Queues</h2>",
        _samples(
            [k["scenario"]],
            [result],
            ["orders_waiting", "batches_waiting", "pack_queue", "agv_tasks_waiting"],
            "Queues (sampled every 5 min)",
            "waiting",
        ),
        "<h2>Utilisation</h2>",
        _samples(
            [k["scenario"]],
            [result],
            ["picker_util", "agv_util", "pack_util", "arm_util"],
            "Utilisation over time",
            "busy share",
        ),
        _bars(list(u), list(u.values()), "Utilisation over the shift", "busy share"),
        "<h2>Travel</h2>",
        _bars(
            [f"{k['policies']['routing']} / {k['policies']['slotting']}"],
            [k["travel_per_pick_m"]],
            "Travel per pick by policy",
            "m per pick line",
        ),
        "<h2>Picks on the layout</h2>",
        _heatmap(result["heatmap"], "Heatmap of picks"),
    ]
    return _page(f"Warehouse simulation: {k['scenario']}", "".join(body))


def compare_report(names: Sequence[str], results: Sequence[dict[str, Any]]) -> str:
    """Side-by-side report of several runs."""
    kp = [r["kpis"] for r in results]
    body = [
        "<h2>KPIs side by side</h2>",
        _table(names, kp),
        "<h2>Travel per pick by policy</h2>",
        _bars(names, [k["travel_per_pick_m"] for k in kp], "Travel per pick", "m per pick line"),
        "<h2>Order processing time</h2>",
        _bars(
            names,
            [k["order_processing_time_min"]["mean"] for k in kp],
            "Mean order processing time",
            "minutes",
        ),
        "<h2>Throughput</h2>",
        _throughput(names, results),
        "<h2>Queues</h2>",
        _samples(names, results, ["pack_queue", "batches_waiting"], "Queues", "waiting"),
        "<h2>Picks on the layout</h2>",
        *(
            _heatmap(r["heatmap"], f"Heatmap of picks: {n}")
            for n, r in zip(names, results, strict=True)
        ),
    ]
    return _page("Warehouse simulation: comparison", "".join(body))


def sweep_report(rows: Sequence[dict[str, Any]]) -> str:
    """Table of a sweep: per variant, mean and 95 % confidence interval of the main KPIs."""
    head = "<tr><th>variant</th><th>KPI</th><th>mean</th><th>95 % CI</th><th>n</th></tr>"
    body = "".join(
        f"<tr><td>{html.escape(r['variant'])}</td><td>{html.escape(name)}</td>"
        f"<td>{s['mean']:.4g}</td><td>{s['ci_low']:.4g} .. {s['ci_high']:.4g}</td>"
        f"<td>{s['n']}</td></tr>"
        for r in rows
        for name, s in r["stats"].items()
    )
    return _page("Warehouse simulation: sweep", f"<table>{head}{body}</table>")
