"""Write the teaching notebooks from their annotated sources: one source, two notebooks.

``source/NN_name.nbsrc`` -> ``NN_name.ipynb`` (the exercise notebook) and
``solutions/NN_name_solutions.ipynb`` (the same with every exercise solved and
the model answers written out). Never edit the notebooks by hand: edit the
source and run

    python docs/notebooks/build.py            # write both notebooks of every source
    python docs/notebooks/build.py --check    # exit 1 if a committed notebook differs from a fresh build

A source is plain text cut into cells by lines that start with ``%% ``:

``%% md``        markdown, in both notebooks
``%% code``      code, in both notebooks
``%% setup``     the install-and-data cell (the same in every notebook; its text is below)
``%% exercise``  code only in the exercise notebook: the scaffold, with ``...`` to fill in
``%% solution``  code only in the solutions notebook: the solved scaffold
``%% answer``    markdown only in the solutions notebook (the model answer); the exercise
                 notebook gets an empty "your answer" cell in its place
``%% predict``   markdown, in both: a "predict first" prompt (rendered as a quote)

The notebooks are written without outputs and with stable cell ids, so a build is
byte-for-byte reproducible (``tests/test_notebooks.py`` checks it).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOURCE_DIR = HERE / "source"
SOLUTIONS_DIR = HERE / "solutions"
KINDS = ("md", "code", "setup", "exercise", "solution", "answer", "predict")

SETUP = '''\
# Install and data. On a fresh machine or in Colab this installs larvasim and fetches the
# connectome (checksum-verified, once); where larvasim is installed and the data found
# (LARVASIM_DATA or larvasim's cache) it does nothing.
import importlib.util, subprocess, sys, warnings
from pathlib import Path
warnings.filterwarnings("ignore", message="IProgress not found")

# Where your course keeps larvasim: a local checkout is found on its own; otherwise set this
# to a pip source (a git URL or a path to a copy of the repository).
LARVASIM_SOURCE = "git+https://github.com/YOUR-COURSE/larvasim.git"

if importlib.util.find_spec("larvasim") is None:
    checkout = next((p for p in [Path.cwd(), *Path.cwd().parents] if (p / "larvasim" / "cli.py").exists()), None)
    if checkout is not None:
        sys.path.insert(0, str(checkout))
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", str(checkout)], check=True)
    else:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", LARVASIM_SOURCE], check=True)

from larvasim.teaching import check, ensure_data, model_card
print("data:", ensure_data("winding2023"))'''

ANSWER_PLACEHOLDER = "*Your answer* (double-click to write; the model answer is in the solutions notebook):\n\n"
KERNEL = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
          "language_info": {"name": "python"}}


def parse(path: Path) -> list[tuple[str, str]]:
    """The cells of a source: [(kind, text)]."""
    cells, kind, lines = [], None, []
    for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("%% "):
            if kind is not None:
                cells.append((kind, "\n".join(lines).strip("\n")))
            kind, lines = line[3:].strip(), []
            if kind not in KINDS:
                raise ValueError(f"{path.name}:{k}: unknown cell kind {kind!r}; one of {', '.join(KINDS)}")
        elif kind is None:
            if line.strip():
                raise ValueError(f"{path.name}:{k}: text before the first '%% ' line")
        else:
            lines.append(line)
    if kind is not None:
        cells.append((kind, "\n".join(lines).strip("\n")))
    for i, (kind, text) in enumerate(cells):
        if kind == "solution" and (i == 0 or cells[i - 1][0] != "exercise"):
            raise ValueError(f"{path.name}: a solution cell must follow its exercise cell (cell {i})")
        if kind == "exercise" and "..." not in text:
            raise ValueError(f"{path.name}: exercise cell {i} has no ... to fill in")
    return cells


def build(path: Path) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    """The exercise and the solutions notebook of one source."""
    stem = path.name.removesuffix(".nbsrc")
    cells = parse(path)
    out = {"exercise": [], "solutions": []}
    banner = {
        "exercise": (f"*Exercise notebook, generated from `source/{stem}.nbsrc` by `build.py`. The solved "
                     f"version with model answers is `solutions/{stem}_solutions.ipynb`.*"),
        "solutions": (f"*Solutions notebook (for instructors and for checking your work), generated from "
                      f"`source/{stem}.nbsrc` by `build.py`; every exercise is solved and every check "
                      f"passes. The exercise version is `../{stem}.ipynb`.*"),
    }
    for which in out:
        for i, (kind, text) in enumerate(cells):
            if i == 0 and kind == "md":
                text = text + "\n\n" + banner[which]
            if kind == "predict":
                text = "\n".join("> " + line if line else ">" for line in ("**Predict first.** " + text).splitlines())
            if kind in ("md", "predict"):
                cell = nbformat.v4.new_markdown_cell(text)
            elif kind == "answer":
                if which == "exercise":
                    cell = nbformat.v4.new_markdown_cell(ANSWER_PLACEHOLDER)
                else:
                    cell = nbformat.v4.new_markdown_cell("**Model answer.** " + text)
            elif kind == "setup":
                cell = nbformat.v4.new_code_cell(SETUP)
            elif kind == "code":
                cell = nbformat.v4.new_code_cell(text)
            elif kind == "exercise":
                if which == "solutions":
                    continue
                cell = nbformat.v4.new_code_cell(text)
            else:  # solution
                if which == "exercise":
                    continue
                cell = nbformat.v4.new_code_cell(text)
            out[which].append(cell)
    nbs = []
    for which, cl in out.items():
        for k, cell in enumerate(cl):
            cell["id"] = f"{stem[:2]}-{'x' if which == 'exercise' else 's'}{k:02d}"
        nb = nbformat.v4.new_notebook(cells=cl, metadata=dict(KERNEL))
        nb.nbformat_minor = 5
        nbformat.validate(nb)
        nbs.append(nb)
    return nbs[0], nbs[1]


def targets(path: Path) -> tuple[Path, Path]:
    stem = path.name.removesuffix(".nbsrc")
    return HERE / f"{stem}.ipynb", SOLUTIONS_DIR / f"{stem}_solutions.ipynb"


def sources() -> list[Path]:
    return sorted(SOURCE_DIR.glob("*.nbsrc"))


def rendered() -> dict[Path, str]:
    """Every notebook a fresh build writes, as text."""
    out = {}
    for src in sources():
        for nb, target in zip(build(src), targets(src)):
            out[target] = nbformat.writes(nb) + "\n"
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare the committed notebooks with a fresh build")
    args = ap.parse_args(argv)
    stale = []
    for target, text in rendered().items():
        if args.check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(target.relative_to(HERE))
        else:
            target.parent.mkdir(exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print("wrote", target.relative_to(HERE))
    if stale:
        print("out of date (run python docs/notebooks/build.py):", ", ".join(map(str, stale)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
