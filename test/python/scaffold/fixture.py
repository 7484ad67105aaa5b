"""Real generated projects for the scaffold tests, made the way a user makes them.

    build_project(example_dir, notebook, dest, out="production") -> dest/out
    build_churn_project(dest) -> dest/production

The notebook's folder is copied to `dest` (without its run store .nb2prod, model files or
__pycache__), then, in `dest`, the built CLI runs

    NB2PROD_PYTHON=PYTHON node dist/cli.js track NOTEBOOK
    node dist/cli.js scaffold NOTEBOOK --out OUT --python PYTHON

with PYTHON the interpreter running pytest (sys.executable: Debian's /usr/bin/python3 or the
venv of current releases, see scripts/provision-python.sh), so `dest` holds the notebook, its
data, the run store and the model the notebook wrote, and dest/OUT the generated project (its pipeline's workdir is ".."). Tracking and scaffolding take
a few seconds, so each notebook is generated once per test session into a cache directory
(removed at exit) and every caller gets its own copy of that workspace to change freely.

Needs node and a built dist/cli.js (`npm run build`): without them the tests fail, never skip.
"""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, NamedTuple, Optional, Tuple, Union

REPO = Path(__file__).resolve().parents[3]
TEMPLATES = REPO / "src" / "core" / "scaffold" / "templates"
CLI = REPO / "dist" / "cli.js"
# The interpreter running the tests tracks, scaffolds (its versions are pinned in the generated
# requirements.txt) and runs the generated projects: each pytest run exercises its own Python.
PYTHON = sys.executable
EXAMPLE = REPO / "examples" / "churn"
FIXTURES = REPO / "test" / "fixtures" / "scaffold"


class Notebook(NamedTuple):
    """A notebook the scaffold tests generate a project from, and how to read its table."""

    id: str
    folder: Path
    notebook: str
    out: str
    data: str = ""  # the training table, relative to the folder
    read: Dict[str, object] = {}  # pandas.read_csv keyword arguments for it


CHURN = Notebook("churn", EXAMPLE, "churn.ipynb", "production", "data/customers.csv")  # RandomForestClassifier, get_dummies
HOUSES = Notebook("houses", FIXTURES / "houses", "houses.ipynb", "service", "data/houses.csv")  # GradientBoostingRegressor, derived column
RENEWALS = Notebook("renewals", FIXTURES / "plans", "renewals.ipynb", "service", "data/accounts.csv")  # OneHotEncoder pipeline, "yes"/"no" labels
# Titanic-style: a reader in a helper, a ColumnTransformer of imputers/scaler/one-hot fitted outside
# the model, an id column, a derived column, the table split before the features, nb2prod.log_metric
VOYAGE = Notebook("voyage", FIXTURES / "voyage", "voyage.ipynb", "service", "data/passengers.csv")
# A ColumnTransformer fitted on the training split, gradient boosting with a chained fit, an id
# column, a ';' file, the model pickled in `with open`
SUBSCRIBERS = Notebook("subscribers", FIXTURES / "subscribers", "cancellations.ipynb", "service", "data/subscribers.csv", {"sep": ";"})
# Text: TfidfVectorizer then LogisticRegression(...).fit(...), rows without text dropped in training
REVIEWS = Notebook("reviews", FIXTURES / "reviews", "sentiment.ipynb", "service", "data/reviews.csv")
# A regression whose model is make_pipeline(StandardScaler(), Ridge()), drop([...], axis=1), an id column
FLATS = Notebook("flats", FIXTURES / "flats", "rents.ipynb", "service", "data/flats.csv")
# GridSearchCV over a pipeline, best_estimator_ saved, df.pop for the target, df.loc[:, cols]
WINE = Notebook("wine", FIXTURES / "wine", "wine.ipynb", "service", "data/wine.csv")
# Inputs of every JSON type (integer, number and category with nulls, boolean, text), boolean labels
TICKETS = Notebook("tickets", FIXTURES / "support", "tickets.ipynb", "service", "data/tickets.csv")
NOTEBOOKS = (CHURN, HOUSES, RENEWALS, TICKETS, VOYAGE, SUBSCRIBERS, REVIEWS, FLATS, WINE)


class GeneratorFailed(AssertionError):
    """The CLI could not track or scaffold the notebook (or is not built)."""


PathLike = Union[str, Path]


def build_project(example_dir: PathLike, notebook: str, dest: PathLike, out: str = "production") -> Path:
    """Copy the notebook's folder to `dest`, track the notebook and scaffold it into dest/out;
    returns dest/out, the generated project's root. `dest` may exist (it must not hold the copy)."""
    workspace = _generated_workspace(Path(example_dir).resolve(), notebook, out)
    dest = Path(dest)
    shutil.copytree(workspace, dest, symlinks=True, dirs_exist_ok=True)
    return dest / out


def build_churn_project(dest: PathLike) -> Path:
    """The churn example's project: dest/production, with the notebook and its data in dest."""
    return build_project(CHURN.folder, CHURN.notebook, dest, CHURN.out)


def build(notebook: Notebook, dest: PathLike) -> Path:
    return build_project(notebook.folder, notebook.notebook, dest, notebook.out)


# ---- generating once per session -----------------------------------------------------------

_workspaces: Dict[Tuple[Path, str, str], Union[Path, GeneratorFailed]] = {}
_cache_root: Optional[Path] = None


def _generated_workspace(example_dir: Path, notebook: str, out: str) -> Path:
    """The tracked and scaffolded copy of `example_dir` in the session's cache. A failure is
    remembered too: every test using the notebook fails with it, without generating again."""
    key = (example_dir, notebook, out)
    if key not in _workspaces:
        try:
            _workspaces[key] = _generate(example_dir, notebook, out, _cache() / ("%d-%s" % (len(_workspaces), example_dir.name)))
        except GeneratorFailed as failure:
            _workspaces[key] = failure
    result = _workspaces[key]
    if isinstance(result, GeneratorFailed):
        raise result
    return result


def _cache() -> Path:
    global _cache_root
    if _cache_root is None:
        _cache_root = Path(tempfile.mkdtemp(prefix="nb2prod-generated-"))
        atexit.register(shutil.rmtree, str(_cache_root), True)
    return _cache_root


def _generate(example_dir: Path, notebook: str, out: str, workspace: Path) -> Path:
    node = shutil.which("node")
    if node is None:
        raise GeneratorFailed("node is not on PATH: the scaffold tests run the nb2prod CLI (dist/cli.js) with it")
    if not CLI.is_file():
        raise GeneratorFailed("%s is missing: run `npm run build` in %s first" % (CLI, REPO))
    if not (example_dir / notebook).is_file():
        raise GeneratorFailed("no notebook %s in %s" % (notebook, example_dir))
    shutil.copytree(example_dir, workspace, ignore=_not_copied)
    (workspace / "models").mkdir(exist_ok=True)  # where the notebooks write their model
    _cli(node, workspace, "track", notebook)
    _cli(node, workspace, "scaffold", notebook, "--out", out, "--python", PYTHON)
    return workspace


def _not_copied(directory: str, names):
    """What a fresh checkout does not have: the run store, trained models, bytecode."""
    ignored = {name for name in names if name in (".nb2prod", "__pycache__") or name.endswith(".pyc")}
    if Path(directory).name == "models":
        ignored.update(name for name in names if name != ".gitkeep")
    return ignored


def _cli(node: str, cwd: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NB2PROD_", "PYTEST_")) and k != "PYTHONPATH"}
    env.update(NB2PROD_PYTHON=PYTHON, PYTHONDONTWRITEBYTECODE="1")
    command = [node, str(CLI)] + list(args)
    try:
        proc = subprocess.run(command, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as error:
        raise GeneratorFailed("`nb2prod %s` in %s did not finish within %ss" % (" ".join(args), cwd, error.timeout))
    if proc.returncode != 0:
        raise GeneratorFailed("`nb2prod %s` in %s exited %d:\n%s\n%s"
                              % (" ".join(args), cwd, proc.returncode, proc.stdout[-6000:], proc.stderr[-6000:]))
