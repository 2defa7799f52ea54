"""Analysis of larva tracks: the published free-crawling statistics, plots and an animation.

:func:`crawling_statistics` measures simulated tracks the way Wosniack et al.
2022 (eLife 11:e75826, Methods "Descriptive statistics of larval trajectory")
measured real ones: centroid positions every 0.5 s; speed from successive
positions, averaged over crawling frames; turns found by simplifying each track
with the Ramer-Douglas-Peucker algorithm at epsilon = 2.5 mm (:func:`rdp`) and
counted per minute. Crawling frames are those faster than 0.3 mm/s (the
stop/crawl threshold of Wystrach et al. 2016, eLife 5:e15504, Fig. 2F).
"""
from __future__ import annotations

import numpy as np

__all__ = ["rdp", "crawling_statistics", "FREE_CRAWLING_REFERENCE", "plot_tracks", "animate"]

#: Published free-crawling statistics of 3rd-instar larvae on plain agar (Wosniack et al. 2022,
#: eLife 11:e75826, doi:10.7554/eLife.75826, Results and Table 2): (rover, sitter).
FREE_CRAWLING_REFERENCE = {
    "crawl_speed_mm_s": (0.84, 0.96),
    "turns_per_min": (2.65, 2.79),
}


def rdp(points: np.ndarray, epsilon: float) -> np.ndarray:
    """Indices of the points kept by Ramer-Douglas-Peucker simplification.

    Parameters
    ----------
    points : ndarray, shape (n, 2)
    epsilon : float
        Largest distance of a dropped point from the simplified line.

    Returns
    -------
    ndarray of int
        Sorted indices (always the first and the last point).
    """
    pts = np.asarray(points, float)
    n = len(pts)
    if n < 3:
        return np.arange(n)
    keep = np.zeros(n, bool)
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        seg = pts[b] - pts[a]
        rel = pts[a + 1:b] - pts[a]
        L = np.hypot(*seg)
        if L > 0:
            d = np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / L
        else:
            d = np.hypot(rel[:, 0], rel[:, 1])
        k = int(np.argmax(d))
        if d[k] > epsilon:
            m = a + 1 + k
            keep[m] = True
            stack += [(a, m), (m, b)]
    return np.flatnonzero(keep)


def crawling_statistics(tr, frame_s: float = 0.5, epsilon_mm: float = 2.5, crawl_mm_s: float = 0.3) -> dict:
    """Speed, turn rate and pause rate of tracks, measured as Wosniack et al. 2022 did.

    Parameters
    ----------
    tr : sim.closed_loop.Trajectories
    frame_s : float
        Resampling interval (their 2 frames per second).
    epsilon_mm : float
        RDP tolerance (theirs on agar: 2.5 mm).
    crawl_mm_s : float
        Frames faster than this count as crawling.

    Returns
    -------
    dict
        ``crawl_speed_mm_s`` (mean over larvae of each larva's mean crawling
        speed), ``turns_per_min`` (mean over larvae), their per-larva values, and
        ``pauses_per_s`` from the body's own count.
    """
    t = np.asarray(tr.t)
    step = int(round(frame_s / (t[1] - t[0])))
    if step < 1:
        raise ValueError(f"frames of {frame_s} s are shorter than the record interval {t[1] - t[0]} s")
    x, y = tr["x"][::step], tr["y"][::step]
    v = np.hypot(np.diff(x, axis=0), np.diff(y, axis=0)) / frame_s
    crawl = v > crawl_mm_s
    speeds = np.array([v[crawl[:, k], k].mean() if crawl[:, k].any() else np.nan for k in range(x.shape[1])])
    minutes = (t[-1] - t[0]) / 60.0
    turns = np.array([max(0, len(rdp(np.column_stack([x[:, k], y[:, k]]), epsilon_mm)) - 2) / minutes
                      for k in range(x.shape[1])])
    pauses = np.asarray(tr.metadata.get("pauses", [np.nan] * x.shape[1]), float) / (t[-1] - t[0])
    return {"crawl_speed_mm_s": float(np.nanmean(speeds)), "turns_per_min": float(np.mean(turns)),
            "pauses_per_s": float(np.nanmean(pauses)), "per_larva_speed_mm_s": speeds.tolist(),
            "per_larva_turns_per_min": turns.tolist()}


def plot_tracks(result, path, max_larvae: int = 20) -> None:
    """One panel per condition: the tracks on the dish, odour sources and light drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from larvasim.util import atomic_path

    conds = list(result.trajectories)
    fig, axes = plt.subplots(1, len(conds), figsize=(3.2 * len(conds), 3.4), squeeze=False)
    for ax, cond in zip(axes[0], conds):
        tr = result.trajectories[cond]
        arena = tr.metadata["arena"]
        r = arena["radius_mm"]
        if arena.get("light") and arena["light"]["kind"] == "half":
            side = -1 if arena["light"]["dark_side"] == "left" else 1
            ax.add_patch(matplotlib.patches.Wedge((0, 0), r, 90 if side < 0 else -90, 270 if side < 0 else 90,
                                                  color="0.85", zorder=0))
        ax.add_patch(matplotlib.patches.Circle((0, 0), r, fill=False, color="k", lw=1))
        for o in arena.get("odours", []):
            ax.add_patch(matplotlib.patches.Circle((o["x_mm"], o["y_mm"]), o["sigma_mm"], color="tab:orange",
                                                   alpha=0.25, lw=0))
            ax.text(o["x_mm"], o["y_mm"], o["odour"], ha="center", va="center", fontsize=8)
        for k in range(min(tr.larvae, max_larvae)):
            ax.plot(tr["x"][:, k], tr["y"][:, k], lw=0.6, alpha=0.8)
        ax.plot(tr["x"][-1, :max_larvae], tr["y"][-1, :max_larvae], "k.", ms=3)
        ax.set_title(cond, fontsize=9)
        ax.set_aspect("equal")
        ax.set_xlim(-r * 1.05, r * 1.05)
        ax.set_ylim(-r * 1.05, r * 1.05)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{result.assay}: tracks (first {max_larvae} larvae per condition; dots: end)", fontsize=9)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def animate(tr, path, larva: int = 0, spikes=None, fps: int = 20, every: int = 4, dpi: int = 80) -> None:
    """An animation (GIF, matplotlib's Pillow writer) of one larva in its arena.

    Parameters
    ----------
    tr : sim.closed_loop.Trajectories
    path : path-like
        Output ``.gif``.
    larva : int
    spikes : (ndarray, ndarray), optional
        Neuron ids and times (ms from the track's start) of that larva's spikes,
        drawn as a raster beside the arena with a moving time cursor.
    fps : int
    every : int
        Draw every ``every``-th record.
    dpi : int
        Resolution of the frames.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter

    from larvasim.util import atomic_path

    arena = tr.metadata["arena"]
    r = arena["radius_mm"]
    ncol = 2 if spikes is not None else 1
    fig, axes = plt.subplots(1, ncol, figsize=(4 * ncol, 4), squeeze=False)
    ax = axes[0][0]
    ax.add_patch(matplotlib.patches.Circle((0, 0), r, fill=False, color="k"))
    for o in arena.get("odours", []):
        ax.add_patch(matplotlib.patches.Circle((o["x_mm"], o["y_mm"]), o["sigma_mm"], color="tab:orange", alpha=0.25))
    ax.set_xlim(-r * 1.05, r * 1.05)
    ax.set_ylim(-r * 1.05, r * 1.05)
    ax.set_aspect("equal")
    path_line, = ax.plot([], [], lw=0.8, color="tab:blue")
    body_line, = ax.plot([], [], lw=3, color="k", solid_capstyle="round")
    title = ax.set_title("")
    cursor = None
    if spikes is not None:
        ax2 = axes[0][1]
        i, t = spikes
        _, row = np.unique(np.asarray(i), return_inverse=True)  # one row per neuron that spiked
        ax2.plot(np.asarray(t) / 1000.0, row, ",k")
        ax2.set_xlim(0, float(tr.t[-1]))
        ax2.set_xlabel("time (s)")
        ax2.set_ylabel("neurons that spiked")
        cursor = ax2.axvline(0, color="r")
    frames = range(0, len(tr.t), every)
    fig.tight_layout()

    def draw(f):
        path_line.set_data(tr["x"][: f + 1, larva], tr["y"][: f + 1, larva])
        body_line.set_data([tr["x"][f, larva], tr["head_x"][f, larva]], [tr["y"][f, larva], tr["head_y"][f, larva]])
        title.set_text(f"t = {tr.t[f]:.1f} s")
        if cursor is not None:
            cursor.set_xdata([tr.t[f], tr.t[f]])
        return path_line, body_line, title

    anim = FuncAnimation(fig, draw, frames=frames, blit=False)
    with atomic_path(path, suffix=".gif") as tmp:
        anim.save(tmp, writer=PillowWriter(fps=fps), dpi=dpi)
    plt.close(fig)
